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
import { dataDirOf } from './data-dir.js';
import { ensureSelfSignedTls, type SelfSignedTls } from './tls-self-signed.js';

export interface AuthFlags {
  /** commander's --no-auth sets this false. */
  auth: boolean;
  dataDir?: string;
  tokenTtlSeconds?: number;
  tlsCert?: string;
  tlsKey?: string;
  /** `--tls`: serve HTTPS with the self-signed CA made in the data dir (tls-self-signed.ts). */
  tls?: boolean;
  /** `--tls-san`: more names and addresses for that certificate. */
  tlsSan?: string[];
}

/** `tls`: true for every TLS flag; 'self-signed' for --tls/--tls-san only (`up`, whose in-process controllers must trust the CA). */
export function addAuthFlags(cmd: Command, options: { tls: boolean | 'self-signed' }): Command {
  cmd
    .option('--no-auth', 'serve WITHOUT authentication: anyone who can connect may do anything (tests only)')
    .option('--data-dir <dir>', 'where the signing key, admin password and controllers token live (default ~/.skyshift)')
    .option('--token-ttl-seconds <n>', 'lifetime of login tokens (default 86400)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error('--token-ttl-seconds must be a positive integer');
      return n;
    });
  if (options.tls === true) {
    cmd.option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)').option('--tls-key <file>', 'PEM private key for --tls-cert');
  }
  if (options.tls !== false) {
    cmd
      .option('--tls', 'serve HTTPS with a self-signed CA and certificate made once in <data-dir>/tls (prints the CA fingerprint for agents)')
      .option(
        '--tls-san <names>',
        'with --tls: more DNS names or IP addresses the certificate covers (comma-separated, repeatable); loopback, localhost, the host name and its addresses are always in',
        (v: string, prev: string[] = []) => [
          ...prev,
          ...v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        ],
      );
  }
  return cmd;
}

export interface Security {
  auth?: Auth;
  options: Pick<ApiServerOptions, 'auth' | 'https'>;
  /** With --tls: the self-signed CA (its file and fingerprint go to skyctl's context and to agents). */
  selfSigned?: SelfSignedTls;
}

/** The HTTPS key and certificate from --tls-cert/--tls-key or --tls; undefined for plain HTTP. */
export function tlsOf(flags: AuthFlags, logger: Logger): { https?: { cert: Buffer; key: Buffer }; selfSigned?: SelfSignedTls } {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (flags.tls && flags.tlsCert) throw new Error('--tls makes its own certificate: give either --tls or --tls-cert/--tls-key');
  if (flags.tlsSan && !flags.tls) throw new Error('--tls-san goes with --tls');
  if (flags.tlsCert && flags.tlsKey) return { https: { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) } };
  if (!flags.tls) return {};
  const selfSigned = ensureSelfSignedTls(dataDirOf(flags), flags.tlsSan ?? []);
  logger.info({ dir: selfSigned.dir, fingerprint: selfSigned.fingerprint, sans: selfSigned.sans, action: selfSigned.action }, 'self-signed TLS');
  return { https: { cert: selfSigned.cert, key: selfSigned.key }, selfSigned };
}

export async function setupSecurity(store: Store, flags: AuthFlags, logger: Logger): Promise<Security> {
  const { https, selfSigned } = tlsOf(flags, logger);
  const tls = selfSigned ? { selfSigned } : {};
  if (!flags.auth) {
    logger.warn('AUTHENTICATION IS DISABLED (--no-auth): anyone who can reach this server may read and change everything');
    return { options: https ? { https } : {}, ...tls };
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
  return { auth, options: { auth, ...(https ? { https } : {}) }, ...tls };
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
