/**
 * Context bookkeeping beyond load/save: how `skyctl login` names and refreshes
 * contexts (`user@host:port`, never silently overwriting one that means
 * something else), delete/rename, and the redacted view `config view` prints.
 */
import { ConfigError, type Context, type SkyConfig } from './config.js';

/** kubectl-like context name for a login: `admin@127.0.0.1:50051`. */
export function contextNameFor(user: string, server: string): string {
  let host = server;
  try {
    host = new URL(server).host || server;
  } catch {
    /* not a URL: use it as written */
  }
  return `${user}@${host}`;
}

/** Same server as written, ignoring a trailing slash. */
function sameServer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

export interface LoginContext {
  user: string;
  server: string;
  token: string;
  /** --context-name: the name to use instead of the derived one. */
  name?: string;
  namespace?: string;
  'certificate-authority'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

/**
 * Stores a login's token and makes its context current. The context is the one
 * named `--context-name` if given, else an existing context for the same user
 * and server (its token is refreshed, its name and namespace kept), else a new
 * `user@host:port`. A name already used for another server or user is refused
 * (ConfigError) rather than overwritten.
 */
export function applyLogin(config: SkyConfig, login: LoginContext): { config: SkyConfig; name: string; created: boolean } {
  const matches = (c: Context) => sameServer(c.server, login.server) && (c.user === undefined || c.user === login.user);
  const name =
    login.name ?? config.contexts.find((c) => c.user === login.user && sameServer(c.server, login.server))?.name ?? contextNameFor(login.user, login.server);
  const existing = config.contexts.find((c) => c.name === name);
  if (existing && !matches(existing)) {
    const owner = existing.user ? `user ${existing.user} on ${existing.server}` : existing.server;
    throw new ConfigError(
      `context "${name}" already exists for ${owner}; logging in as ${login.user} to ${login.server} would change what it means. ` +
        `Pick another name with --context-name NAME, or remove it first: skyctl config delete-context ${name}`,
    );
  }
  const ctx: Context = {
    ...existing,
    name,
    server: existing?.server ?? login.server,
    namespace: login.namespace ?? existing?.namespace ?? 'default',
    user: login.user,
    token: login.token,
  };
  if (login['certificate-authority'] !== undefined) {
    ctx['certificate-authority'] = login['certificate-authority'];
    delete ctx['insecure-skip-tls-verify'];
  }
  if (login['insecure-skip-tls-verify']) {
    ctx['insecure-skip-tls-verify'] = true;
    delete ctx['certificate-authority'];
  }
  const contexts = existing ? config.contexts.map((c) => (c.name === name ? ctx : c)) : [...config.contexts, ctx];
  return { config: { ...config, contexts, 'current-context': name }, name, created: !existing };
}

export function deleteContext(config: SkyConfig, name: string): SkyConfig {
  if (!config.contexts.some((c) => c.name === name)) throw new ConfigError(`no context exists with the name: "${name}"`);
  const next: SkyConfig = { ...config, contexts: config.contexts.filter((c) => c.name !== name) };
  if (next['current-context'] === name) delete next['current-context'];
  return next;
}

export function renameContext(config: SkyConfig, from: string, to: string): SkyConfig {
  if (!config.contexts.some((c) => c.name === from)) throw new ConfigError(`cannot rename the context "${from}", it's not in the config`);
  if (from !== to && config.contexts.some((c) => c.name === to))
    throw new ConfigError(`cannot rename the context "${from}", the context "${to}" already exists`);
  const next: SkyConfig = { ...config, contexts: config.contexts.map((c) => (c.name === from ? { ...c, name: to } : c)) };
  if (config['current-context'] === from) next['current-context'] = to;
  return next;
}

export const REDACTED = 'REDACTED';

/** What `config view` prints: tokens replaced unless `raw`; with `minify` only the current context. */
export function viewOf(config: SkyConfig, options: { raw?: boolean; minify?: boolean } = {}): SkyConfig {
  let contexts = config.contexts;
  if (options.minify) {
    const current = config['current-context'];
    if (current === undefined) throw new ConfigError('current-context is not set: nothing to --minify to');
    contexts = contexts.filter((c) => c.name === current);
    if (!contexts.length) throw new ConfigError(`current-context "${current}" does not exist`);
  }
  if (!options.raw) contexts = contexts.map((c) => (c.token === undefined ? c : { ...c, token: REDACTED }));
  if (options.minify) return { 'current-context': config['current-context'], contexts };
  return { ...config, contexts };
}
