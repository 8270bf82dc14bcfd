import type { Command } from 'commander';
import { configPath, loadConfig, saveConfig, setContext, useContext, type Context } from '../config.js';
import { printColumns } from '../printers/index.js';
import { UsageError, type Io } from '../runtime.js';

export function registerConfig(program: Command, io: Io): void {
  const config = program
    .command('config')
    .description(`Manage contexts in ~/.skyconf/config.yaml`)
    .addHelpText(
      'after',
      `
Examples:
  skyctl config get-contexts
  skyctl config set-context prod --server https://skyshift.example.com:50051 --namespace ml
  skyctl config use-context prod
  skyctl config current-context`,
    );
  const path = () => configPath(io.home);

  config
    .command('get-contexts')
    .description('List contexts')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config get-contexts`,
    )
    .action(() => {
      const cfg = loadConfig(path());
      const rows = cfg.contexts.map((c) => [c.name === cfg['current-context'] ? '*' : '', c.name, c.server, c.namespace ?? 'default', c.user ?? '']);
      io.stdout.write(printColumns(['CURRENT', 'NAME', 'SERVER', 'NAMESPACE', 'USER'], rows));
    });

  config
    .command('use-context')
    .aliases(['use-ctx', 'swap-context', 'swap-ctx'])
    .description('Make a context the current one')
    .argument('<name>')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config use-context prod`,
    )
    .action((name: string) => {
      const cfg = loadConfig(path());
      try {
        saveConfig(useContext(cfg, name), path());
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      io.stdout.write(`Switched to context "${name}".\n`);
    });

  config
    .command('current-context')
    .description('Print the current context')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config current-context`,
    )
    .action(() => {
      const cfg = loadConfig(path());
      if (!cfg['current-context']) throw new UsageError('current-context is not set');
      io.stdout.write(`${cfg['current-context']}\n`);
    });

  config
    .command('set-context')
    .description('Create or change a context (the first one becomes current)')
    .argument('<name>')
    .option('--server <url>', 'API server URL')
    .option('--namespace <ns>', 'default namespace for this context')
    .option('--user <user>', 'user name shown in get-contexts')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config set-context local --server http://127.0.0.1:50051
  skyctl config set-context prod --server https://sky.example.com:50051 --namespace ml`,
    )
    .action((name: string, opts: { server?: string; namespace?: string; user?: string }) => {
      const cfg = loadConfig(path());
      const existing = cfg.contexts.find((c) => c.name === name);
      const server = opts.server ?? existing?.server;
      if (!server) throw new UsageError(`context "${name}" is new: --server is required`);
      if (!/^https?:\/\//.test(server)) throw new UsageError(`--server must be an http(s) URL, got "${server}"`);
      const ctx: Context = { name, server };
      if (opts.namespace) ctx.namespace = opts.namespace;
      if (opts.user) ctx.user = opts.user;
      saveConfig(setContext(cfg, ctx), path());
      io.stdout.write(`Context "${name}" ${existing ? 'modified' : 'created'}.\n`);
    });
}
