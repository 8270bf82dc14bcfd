/** `skyctl status`: clusters, their merged total, and unfinished jobs in every namespace. */
import type { Command } from 'commander';
import { renderData, renderStatus, statusSummary } from '../printers/index.js';
import { UsageError, connect, optionsOf, type Io } from '../runtime.js';

export function registerStatus(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('status')
      .description('Summarise the control plane: clusters, their merged TOTAL (READY clusters only) and unfinished jobs in every namespace')
      .option('-o, --output <format>', 'json|yaml: a structured summary instead of tables')
      .addHelpText(
        'after',
        `
Examples:
  skyctl status
  skyctl status -o yaml`,
      ),
  ).action(async (_o: unknown, cmd: Command) => {
    const format = optionsOf(cmd).output as string | undefined;
    if (format !== undefined && format !== 'json' && format !== 'yaml') {
      throw new UsageError(`unable to match a printer suitable for the output format "${format}", allowed formats are: json,yaml`);
    }
    const { client } = connect(cmd, io);
    const [clusters, jobs] = await Promise.all([
      client.listAll('clusters', { signal: io.signal }),
      client.listAll('jobs', { allNamespaces: true, signal: io.signal }),
    ]);
    if (format) io.stdout.write(renderData(statusSummary(clusters.items, jobs.items), format));
    else io.stdout.write(renderStatus(clusters.items, jobs.items, { color: io.stdout.isTTY === true && !io.env.NO_COLOR }));
  });
}
