/**
 * `skyctl login`, `register`, `whoami`. Login stores the token in a context
 * named `user@host:port` (file mode 0600), refreshing the context that already
 * holds that user on that server, and switches to it; the server never writes
 * the client's config.
 */
import type { Command } from 'commander';
import { login, register, whoami } from '../../client/core.js';
import { SkyShiftClient } from '../../client/core.js';
import { ConfigError, configPath, loadConfig, resolveConnection, saveConfig } from '../config.js';
import { applyLogin } from '../config-contexts.js';
import { UsageError, connect, globalsOf, tlsOf, type Io } from '../runtime.js';
import { addTlsOptions, tlsFlags } from './config.js';
import { readSecret } from './auth-prompt.js';

export function registerSessionCommands(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    addTlsOptions(
      program
        .command('login')
        .description('Log in and switch to context user@host:port (token stored in ~/.skyconf/config.yaml, mode 0600)')
        .argument('<user>')
        .option('-p, --password <password>', 'password (visible to other local users in the process list: prefer the prompt or --password-stdin)')
        .option('--password-stdin', 'read the password from the first line of stdin')
        .option('--context-name <name>', 'name of the context to store the token in (default: the one holding this user on this server, else user@host:port)'),
    ).addHelpText(
      'after',
      `
Logging in again as the same user to the same server refreshes that context's
token; a context name that already means another server or user is refused.

Examples:
  skyctl login reader1                      # prompts for the password
  echo "$PW" | skyctl login reader1 --password-stdin
  skyctl --server https://sky.example.com:50051 login alice --certificate-authority ca.pem
  skyctl --server https://lab:50051 login admin --context-name lab`,
    ),
  ).action(async (user: string, opts: LoginOptions, cmd: Command) => {
    const tls = tlsFlags(opts);
    const path = configPath(io.home);
    const cfg = loadConfig(path);
    const globals = globalsOf(cmd);
    const connection = resolveConnection(cfg, globals, io.env);
    const current = cfg.contexts.find((c) => c.name === connection.context);
    // Same server, same trust: without TLS flags keep those of the context used to reach it.
    const trust = Object.keys(tls).length
      ? tls
      : {
          ...(current?.['certificate-authority'] ? { 'certificate-authority': current['certificate-authority'] } : {}),
          ...(current?.['insecure-skip-tls-verify'] ? { 'insecure-skip-tls-verify': true } : {}),
        };
    const store = (name: string, token: string) => {
      try {
        return applyLogin(cfg, {
          user: name,
          server: connection.server,
          token,
          ...(opts.contextName !== undefined ? { name: opts.contextName } : {}),
          ...(globals.namespace !== undefined ? { namespace: globals.namespace } : {}),
          ...trust,
        });
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
    };
    store(user, ''); // a name that would change meaning fails before the password is asked for
    const password = await passwordOf(io, opts, `Password for ${user}: `);
    const client = new SkyShiftClient({
      server: connection.server,
      tls: tlsOf({ ...connection, certificateAuthority: trust['certificate-authority'], insecureSkipTlsVerify: trust['insecure-skip-tls-verify'] === true }),
    });
    const result = await login(client, user, password);
    const applied = store(result.user, result.token);
    saveConfig(applied.config, path);
    io.stdout.write(
      `Logged in as ${result.user} (token expires ${result.expiresAt}). ${applied.created ? 'Created' : 'Refreshed'} context "${applied.name}" and switched to it.\n`,
    );
  });

  addGlobals(
    program
      .command('register')
      .description('Create your user with an invite token')
      .argument('<user>')
      .requiredOption('--invite <token>', 'invite token from skyctl invite')
      .option('-p, --password <password>', 'password, at least 8 characters (or prompt / --password-stdin)')
      .option('--password-stdin', 'read the password from the first line of stdin')
      .option('--email <email>', 'e-mail address')
      .addHelpText(
        'after',
        `
Examples:
  skyctl register reader1 --invite eyJ... --password 'correct horse'
  skyctl login reader1 --password 'correct horse'`,
      ),
  ).action(async (user: string, opts: { invite: string; password?: string; passwordStdin?: boolean; email?: string }, cmd: Command) => {
    const password = await passwordOf(io, opts, `New password for ${user}: `);
    const session = connect(cmd, io);
    const result = await register(session.client, {
      username: user,
      password,
      invite: opts.invite,
      ...(opts.email !== undefined ? { email: opts.email } : {}),
    });
    io.stdout.write(`user/${result.user} created${result.roles.length ? ` with roles ${result.roles.join(', ')}` : ''}\n`);
    if (result.skippedRoles.length) io.stdout.write(`not granted (the inviter no longer holds them): ${result.skippedRoles.join(', ')}\n`);
    io.stdout.write(`Next: skyctl login ${result.user}\n`);
  });

  addGlobals(
    program
      .command('whoami')
      .description('Show the current user, its roles and namespaces')
      .option('-o, --output <format>', 'json')
      .addHelpText(
        'after',
        `
Examples:
  skyctl whoami`,
      ),
  ).action(async (opts: { output?: string }, cmd: Command) => {
    const result = await whoami(connect(cmd, io, globalsOf(cmd)).client);
    if (opts.output === 'json') {
      io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return;
    }
    if (opts.output !== undefined) throw new UsageError(`unknown output format "${opts.output}" (allowed: json)`);
    io.stdout.write(
      `USER:       ${result.user}\nTYPE:       ${result.type}\nROLES:      ${result.roles.join(', ') || '<none>'}\nNAMESPACES: ${result.namespaces.join(', ') || '<none>'}\n`,
    );
  });
}

async function passwordOf(io: Io, opts: { password?: string; passwordStdin?: boolean }, prompt: string): Promise<string> {
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError('use either --password or --password-stdin');
  if (opts.password !== undefined) return opts.password;
  const fromStdin = opts.passwordStdin === true || !(io.stdin as { isTTY?: boolean }).isTTY;
  const password = await readSecret(io, fromStdin ? undefined : prompt);
  if (!password) throw new UsageError('a password is required (--password, --password-stdin or the prompt)');
  return password;
}

interface LoginOptions {
  password?: string;
  passwordStdin?: boolean;
  contextName?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}
