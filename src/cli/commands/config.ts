import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import YAML from 'yaml';
import { ConfigError, configPath, loadConfig, resolveConnection, saveConfig, setContext, useContext, type Context, type SkyConfig } from '../config.js';
import { deleteContext, renameContext, viewOf } from '../config-contexts.js';
import { printColumns } from '../printers/index.js';
import { UsageError, globalsOf, markGlobal, type Io } from '../runtime.js';

/** Turns the config's own errors (unknown name, name taken) into usage errors: exit 2. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** `--insecure-skip-tls-verify[=true|false]`, as kubectl spells it. */
function boolArg(value: string | boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--insecure-skip-tls-verify takes true or false, got "${value}"`);
}

/** The TLS part of a context from --certificate-authority / --insecure-skip-tls-verify (shared with login). */
export function tlsFlags(opts: { certificateAuthority?: string; insecureSkipTlsVerify?: boolean }): Partial<Context> {
  if (opts.certificateAuthority !== undefined && opts.insecureSkipTlsVerify === true)
    throw new UsageError('use either --certificate-authority or --insecure-skip-tls-verify, not both');
  if (opts.certificateAuthority !== undefined) {
    const file = resolve(opts.certificateAuthority);
    if (!existsSync(file)) throw new UsageError(`--certificate-authority: no such file ${file}`);
    return { 'certificate-authority': file };
  }
  if (opts.insecureSkipTlsVerify !== undefined) return { 'insecure-skip-tls-verify': opts.insecureSkipTlsVerify };
  return {};
}

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--certificate-authority <file>', "PEM CA file that signed the server's certificate (stored as an absolute path)")
    .addOption(new Option('--insecure-skip-tls-verify [bool]', 'do not verify the server certificate (encrypted, not authenticated)').argParser(boolArg));
}

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
  skyctl config current-context
  skyctl config view --minify
  skyctl config rename-context admin@127.0.0.1:50051 local
  skyctl config delete-context old`,
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

  addTlsOptions(
    config
      .command('set-context')
      .description('Create or change a context (the first one becomes current)')
      .argument('<name>')
      .option('--server <url>', 'API server URL')
      .option('--namespace <ns>', 'default namespace for this context')
      .option('--user <user>', 'user name shown in get-contexts'),
  )
    .addHelpText(
      'after',
      `
Examples:
  skyctl config set-context local --server http://127.0.0.1:50051
  skyctl config set-context prod --server https://sky.example.com:50051 --namespace ml --certificate-authority ca.pem
  skyctl config set-context lab --server https://lab.example.org:50051 --insecure-skip-tls-verify`,
    )
    .action((name: string, opts: { server?: string; namespace?: string; user?: string; certificateAuthority?: string; insecureSkipTlsVerify?: boolean }) => {
      const cfg = loadConfig(path());
      const existing = cfg.contexts.find((c) => c.name === name);
      const server = opts.server ?? existing?.server;
      if (!server) throw new UsageError(`context "${name}" is new: --server is required`);
      if (!/^https?:\/\//.test(server)) throw new UsageError(`--server must be an http(s) URL, got "${server}"`);
      const ctx: Context = { name, server, ...tlsFlags(opts) };
      if (opts.namespace) ctx.namespace = opts.namespace;
      if (opts.user) ctx.user = opts.user;
      const next = setContext(cfg, ctx);
      // One TLS mode per context: a CA replaces "insecure" and the other way round.
      const stored = next.contexts.find((c) => c.name === name) as Context;
      if (ctx['certificate-authority'] !== undefined) delete stored['insecure-skip-tls-verify'];
      if (ctx['insecure-skip-tls-verify'] === true) delete stored['certificate-authority'];
      if (ctx['insecure-skip-tls-verify'] === false) delete stored['insecure-skip-tls-verify'];
      saveConfig(next, path());
      io.stdout.write(`Context "${name}" ${existing ? 'modified' : 'created'}.\n`);
    });

  config
    .command('view')
    .description('Print the configuration (tokens REDACTED unless --raw)')
    .option('--raw', 'print tokens as stored')
    .option('--minify', 'only the current context')
    .addOption(new Option('-o, --output <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
    .addHelpText(
      'after',
      `
Examples:
  skyctl config view
  skyctl config view --minify -o json
  skyctl config view --raw --minify > ~/ci-skyconf.yaml`,
    )
    .action((opts: { raw?: boolean; minify?: boolean; output: string }) => {
      const view: SkyConfig = usage(() => viewOf(loadConfig(path()), opts));
      io.stdout.write(opts.output === 'json' ? JSON.stringify(view, null, 2) + '\n' : YAML.stringify(view));
    });

  config
    .command('delete-context')
    .description('Delete a context (if it was current, no context is current afterwards)')
    .argument('<name>')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config delete-context old`,
    )
    .action((name: string) => {
      const cfg = loadConfig(path());
      saveConfig(
        usage(() => deleteContext(cfg, name)),
        path(),
      );
      io.stdout.write(`deleted context ${name} from ${path()}\n`);
      if (cfg['current-context'] === name)
        io.stderr.write(`warning: this removed your active context, use "skyctl config use-context" to select a different one\n`);
    });

  config
    .command('rename-context')
    .description('Rename a context (it stays current if it was)')
    .argument('<old>')
    .argument('<new>')
    .addHelpText(
      'after',
      `
Examples:
  skyctl config rename-context admin@127.0.0.1:50051 local`,
    )
    .action((from: string, to: string) => {
      saveConfig(
        usage(() => renameContext(loadConfig(path()), from, to)),
        path(),
      );
      io.stdout.write(`Context "${from}" renamed to "${to}".\n`);
    });

  program
    .command('token')
    .description("Print the current context's bearer token (for curl and scripts)")
    .addOption(markGlobal(new Option('--context <name>', 'context from ~/.skyconf/config.yaml')))
    .addHelpText(
      'after',
      `
Examples:
  TOKEN=$(skyctl token)
  curl -s -H "Authorization: Bearer $(skyctl token --context prod)" https://sky.example.com:50051/default/jobs`,
    )
    .action((_opts: unknown, cmd: Command) => {
      const cfg = loadConfig(path());
      const { context } = globalsOf(cmd);
      const name = context ?? cfg['current-context'];
      if (name === undefined) throw new ConfigError('no current context: log in first (skyctl login USER) or pick one (skyctl --context NAME token)');
      const resolved = resolveConnection(cfg, { context: name }, {});
      if (resolved.context === undefined) throw new ConfigError(`current-context "${name}" does not exist`);
      if (!resolved.token) throw new ConfigError(`context "${name}" has no token: log in with skyctl login USER`);
      io.stdout.write(`${resolved.token}\n`);
    });
}
