/**
 * Security wiring shared by `skyshift server`, `up` and `controllers`: the
 * auth and TLS flags, turning them into createApiServer options, and the
 * controllers' token file.
 * Auth is on by default; `--no-auth` is for tests and is logged loudly.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { createAuth, type ApiServerOptions, type Auth } from '../server/index.js';
import type { Store } from '../store/index.js';

export interface AuthFlags {
  /** commander's --no-auth sets this false. */
  auth: boolean;
  dataDir?: string;
  tokenTtlSeconds?: number;
  tlsCert?: string;
  tlsKey?: string;
}

export function addAuthFlags(cmd: Command, options: { tls: boolean }): Command {
  cmd
    .option('--no-auth', 'serve WITHOUT authentication: anyone who can connect may do anything (tests only)')
    .option('--data-dir <dir>', 'where the signing key, admin password and controllers token live (default ~/.skyshift)')
    .option('--token-ttl-seconds <n>', 'lifetime of login tokens (default 86400)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error('--token-ttl-seconds must be a positive integer');
      return n;
    });
  if (options.tls) {
    cmd.option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)').option('--tls-key <file>', 'PEM private key for --tls-cert');
  }
  return cmd;
}

export interface Security {
  auth?: Auth;
  options: Pick<ApiServerOptions, 'auth' | 'https'>;
}

export async function setupSecurity(store: Store, flags: AuthFlags, logger: Logger): Promise<Security> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const https = flags.tlsCert && flags.tlsKey ? { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) } : undefined;
  if (!flags.auth) {
    logger.warn('AUTHENTICATION IS DISABLED (--no-auth): anyone who can reach this server may read and change everything');
    return { options: https ? { https } : {} };
  }
  const dataDir = flags.dataDir ?? join(homedir(), '.skyshift');
  const auth = await createAuth({
    store,
    dataDir,
    ...(flags.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: flags.tokenTtlSeconds } : {}),
  });
  // Only the path: the password itself is never logged or printed.
  if (auth.adminCreated) logger.info({ file: auth.adminPasswordFile }, 'admin user created; its generated password is in this file (mode 0600)');
  logger.info({ file: auth.controllerTokenFile }, 'controllers service-account token file (mode 0600)');
  return { auth, options: { auth, ...(https ? { https } : {}) } };
}

/** The controllers' token from --token-file (trimmed), or --token. */
export function controllerToken(options: { token?: string; tokenFile?: string }): string | undefined {
  if (options.tokenFile) {
    const token = readFileSync(options.tokenFile, 'utf8').trim();
    if (!token) throw new Error(`token file ${options.tokenFile} is empty`);
    return token;
  }
  return options.token;
}
