/**
 * skyctl contexts in ~/.skyconf/config.yaml. Shape (also written as the file's
 * header comment, so whoever opens the file knows it):
 *
 *   current-context: local
 *   contexts:
 *     - name: local
 *       server: http://127.0.0.1:50051
 *       namespace: default
 *       user: admin        # optional
 *       token: ...         # optional; hence directory 0700 and file 0600
 *
 * Unknown top-level keys are preserved on write, so other tools (`skyshift
 * up`) may keep their own sections in the same file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';

export const DEFAULT_SERVER = 'http://127.0.0.1:50051';

export interface Context {
  name: string;
  server: string;
  namespace?: string;
  user?: string;
  token?: string;
  /** PEM CA file that signed an https server's certificate. */
  'certificate-authority'?: string;
  /** Accept any certificate (encrypted, but the server is not verified). */
  'insecure-skip-tls-verify'?: boolean;
}

export interface SkyConfig {
  'current-context'?: string;
  contexts: Context[];
  [other: string]: unknown;
}

const HEADER = `# skyctl configuration. current-context names one entry of contexts;
# each context: name, server (API URL), namespace, optional user and token.
# Holds credentials: keep this file mode 0600.
`;

export function configPath(home: string = homedir()): string {
  return join(home, '.skyconf', 'config.yaml');
}

export class ConfigError extends Error {}

export function loadConfig(path: string = configPath()): SkyConfig {
  if (!existsSync(path)) return { contexts: [] };
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const doc = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const contexts = Array.isArray(doc.contexts)
    ? doc.contexts.filter((c): c is Context => !!c && typeof c === 'object' && typeof (c as Context).name === 'string')
    : [];
  return { ...doc, contexts };
}

/** Writes atomically (temp file + rename) with mode 0600 in a 0700 directory. */
export function saveConfig(config: SkyConfig, path: string = configPath()): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, HEADER + YAML.stringify(config), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface Resolved {
  server: string;
  namespace: string;
  token?: string;
  context?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

/**
 * Precedence: --server flag > SKYSHIFT_SERVER > the context's server > default.
 * Namespace: -n flag > the context's namespace > 'default'.
 */
export function resolveConnection(config: SkyConfig, flags: { server?: string; context?: string; namespace?: string }, env: NodeJS.ProcessEnv): Resolved {
  const ctxName = flags.context ?? config['current-context'];
  const ctx = ctxName === undefined ? undefined : config.contexts.find((c) => c.name === ctxName);
  if (flags.context !== undefined && !ctx) throw new ConfigError(`context "${flags.context}" does not exist`);
  const resolved: Resolved = {
    server: flags.server ?? (env.SKYSHIFT_SERVER || undefined) ?? ctx?.server ?? DEFAULT_SERVER,
    namespace: flags.namespace ?? ctx?.namespace ?? 'default',
  };
  if (ctx?.token) resolved.token = ctx.token;
  if (ctx?.['certificate-authority']) resolved.certificateAuthority = ctx['certificate-authority'];
  if (ctx?.['insecure-skip-tls-verify'] === true) resolved.insecureSkipTlsVerify = true;
  if (ctx) resolved.context = ctx.name;
  return resolved;
}

export function setContext(config: SkyConfig, ctx: Context): SkyConfig {
  const others = config.contexts.filter((c) => c.name !== ctx.name);
  const existing = config.contexts.find((c) => c.name === ctx.name);
  const merged = { ...existing, ...ctx };
  for (const k of Object.keys(merged) as (keyof Context)[]) if (merged[k] === undefined) delete merged[k];
  return { ...config, contexts: [...others, merged], 'current-context': config['current-context'] ?? ctx.name };
}

/**
 * Writes `ctx` over the context of the same name (keeping that one's
 * namespace and any field `ctx` leaves out) and makes it current: how
 * `skyshift up` hands its server to skyctl. Returns the file written.
 */
export function saveCurrentContext(ctx: Context, path: string = configPath()): string {
  const config = loadConfig(path);
  const previous = config.contexts.find((c) => c.name === ctx.name);
  const context = { ...previous, ...ctx, namespace: ctx.namespace ?? previous?.namespace ?? 'default' };
  saveConfig({ ...config, contexts: [...config.contexts.filter((c) => c.name !== ctx.name), context], 'current-context': ctx.name }, path);
  return path;
}

export function useContext(config: SkyConfig, name: string): SkyConfig {
  if (!config.contexts.some((c) => c.name === name)) throw new ConfigError(`no context exists with the name: "${name}"`);
  return { ...config, 'current-context': name };
}
