/** `skyctl version` (and `--version`): this client's version and the server's. */
import type { Command } from 'commander';
import { renderData } from '../printers/index.js';
import { UsageError, connect, optionsOf, type Io } from '../runtime.js';

export function registerVersion(program: Command, io: Io, addGlobals: (c: Command) => Command, clientVersion: string): void {
  addGlobals(
    program
      .command('version')
      .description("Print the client version and, unless --client, the API server's")
      .option('--client', 'client version only (no server needed)')
      .option('-o, --output <format>', 'json|yaml')
      .addHelpText(
        'after',
        `
Examples:
  skyctl version
  skyctl version --client
  skyctl version -o json`,
      ),
  ).action(async (_o: unknown, cmd: Command) => {
    const o = optionsOf(cmd);
    const format = o.output as string | undefined;
    if (format !== undefined && format !== 'json' && format !== 'yaml') {
      throw new UsageError(`unable to match a printer suitable for the output format "${format}", allowed formats are: json,yaml`);
    }
    const server = o.client === true ? undefined : await connect(cmd, io).client.version({ signal: io.signal });
    if (format) {
      io.stdout.write(renderData({ clientVersion: { version: clientVersion }, ...(server && { serverVersion: server }) }, format));
      return;
    }
    io.stdout.write(`Client Version: ${clientVersion}\n`);
    if (server) io.stdout.write(`Server Version: ${server.version}\n`);
  });
}
