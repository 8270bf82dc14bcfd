/**
 * Maps a request path onto its one canonical target: a resource, an account
 * route or an operational route. Every request is resolved here exactly once
 * (app.ts, before any other hook), and the auth gate, the role guard and the
 * handler all act on that same target, so no spelling of a path (percent-
 * encoding, trailing slash, double slash, dot segments) can reach a handler
 * the authorisation decision did not see. It also keeps the rule "a first
 * segment that is a global plural is global, otherwise it is a namespace" in
 * one place.
 */
import { ApiError, badRequest, type KindInfo } from '../api/index.js';

export type Target =
  | { type: 'collection'; kind: KindInfo; namespace?: string; route: string }
  | { type: 'object'; kind: KindInfo; namespace?: string; name: string; route: string }
  | { type: 'status'; kind: KindInfo; namespace?: string; name: string; route: string }
  | { type: 'logs'; kind: KindInfo; namespace: string; name: string; route: string }
  /** WebSocket routes (streams/): a command in a task, a byte stream to a task's port. */
  | { type: 'exec' | 'portforward'; kind: KindInfo; namespace: string; name: string; route: string };

/** What a path resolves to: a resource target, or one of the fixed operational and account routes. */
export type Resolved =
  | Target
  | { type: 'operation'; route: OperationRoute }
  /** The agent tunnel's WebSocket (src/server/agent-tunnel.ts): operational (no role grants it), for agent tokens only. */
  | { type: 'operation'; route: '/agent/tunnel' }
  | { type: 'account'; route: AccountRoute; id?: string }
  /** POST mints, DELETE revokes the join tokens of an agent cluster (src/server/auth/agent-tokens.ts). */
  | { type: 'agent-tokens'; cluster: string; route: '/clusters/{name}/agent-tokens' };

export type OperationRoute = '/healthz' | '/readyz' | '/version' | '/metrics' | '/openapi.json';
export type AccountRoute = '/login' | '/register' | '/invites' | '/invites/{id}' | '/whoami';

const OPERATIONS = new Set<string>(['healthz', 'readyz', 'version', 'metrics', 'openapi.json']);
const ACCOUNTS = new Set<string>(['login', 'register', 'invites', 'whoami']);

/** Path segments that can never be namespace names (they would shadow routes). */
export const RESERVED_NAMESPACES = new Set([
  'healthz',
  'readyz',
  'version',
  'metrics',
  'openapi.json',
  'ui',
  'api',
  'apis',
  // account routes (src/server/auth)
  'login',
  'register',
  'invites',
  'whoami',
  // the agent tunnel (/agent/tunnel)
  'agent',
]);

export class Router {
  private readonly byPlural: Map<string, KindInfo>;

  constructor(kinds: readonly KindInfo[]) {
    this.byPlural = new Map(kinds.map((k) => [k.plural, k]));
  }

  isPlural(segment: string): boolean {
    return this.byPlural.has(segment);
  }

  /** Throws 400 for malformed paths and 404 for paths naming nothing. */
  resolve(url: string): Resolved {
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    // Every request comes through here: plain paths (the common case) skip the regex and decoding.
    const encoded = path.includes('%') || path.includes('\\');
    if (encoded && /%2f|%5c|\\/i.test(path)) throw badRequest('encoded slashes are not allowed in paths');
    const raw = path.split('/');
    const segments: string[] = [];
    for (let i = 1; i < raw.length; i++) {
      const s = raw[i]!;
      let decoded = s;
      if (encoded) {
        try {
          decoded = decodeURIComponent(s);
        } catch {
          throw badRequest(`malformed path segment '${s}'`);
        }
        if (decoded.includes('\0')) throw badRequest('NUL is not allowed in paths');
      }
      if (decoded === '.' || decoded === '..') throw badRequest("'.' and '..' are not allowed in paths");
      segments.push(decoded);
    }
    // Tolerate one trailing slash ("/jobs/") but no empty segment elsewhere.
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    if (segments.some((s) => s === '')) throw notFound(path);

    const [first, second, third, fourth] = segments;
    if (first !== undefined && RESERVED_NAMESPACES.has(first)) return special(segments, path);
    const global = first !== undefined ? this.byPlural.get(first) : undefined;
    if (global && !global.namespaced) {
      if (segments.length === 1) return { type: 'collection', kind: global, route: `/${global.plural}` };
      if (segments.length === 2) return { type: 'object', kind: global, name: second!, route: `/${global.plural}/{name}` };
      if (segments.length === 3 && third === 'status') return { type: 'status', kind: global, name: second!, route: `/${global.plural}/{name}/status` };
      if (segments.length === 3 && third === 'agent-tokens' && global.plural === 'clusters')
        return { type: 'agent-tokens', cluster: second!, route: '/clusters/{name}/agent-tokens' };
      throw notFound(path);
    }
    if (global && segments.length === 1) {
      // A namespaced kind without a namespace: list across namespaces.
      return { type: 'collection', kind: global, route: `/${global.plural}` };
    }
    if (first === undefined || second === undefined) throw notFound(path);
    const kind = this.byPlural.get(second);
    if (!kind) throw new ApiError('NotFound', `unknown resource type '${second}' in path ${path}`);
    if (!kind.namespaced) throw new ApiError('NotFound', `${kind.plural} are not namespaced: use /${kind.plural}`);
    const namespace = first;
    const base = `/{namespace}/${kind.plural}`;
    if (segments.length === 2) return { type: 'collection', kind, namespace, route: base };
    if (segments.length === 3) return { type: 'object', kind, namespace, name: third!, route: `${base}/{name}` };
    if (segments.length === 4 && fourth === 'status') return { type: 'status', kind, namespace, name: third!, route: `${base}/{name}/status` };
    if (segments.length === 4 && fourth === 'logs' && kind.plural === 'jobs')
      return { type: 'logs', kind, namespace, name: third!, route: `${base}/{name}/logs` };
    if (segments.length === 4 && (fourth === 'exec' || fourth === 'portforward') && kind.plural === 'jobs')
      return { type: fourth, kind, namespace, name: third!, route: `${base}/{name}/${fourth}` };
    throw notFound(path);
  }
}

/** Operational and account routes: exact names only (after decoding), at most an id below /invites. */
function special(segments: string[], path: string): Resolved {
  const [first, second] = segments as [string, string | undefined];
  if (segments.length === 1 && OPERATIONS.has(first)) return { type: 'operation', route: `/${first}` as OperationRoute };
  if (segments.length === 1 && ACCOUNTS.has(first)) return { type: 'account', route: `/${first}` as AccountRoute };
  if (segments.length === 2 && first === 'invites') return { type: 'account', route: '/invites/{id}', id: second! };
  if (segments.length === 2 && first === 'agent' && second === 'tunnel') return { type: 'operation', route: '/agent/tunnel' };
  throw notFound(path);
}

function notFound(path: string): ApiError {
  return new ApiError('NotFound', `no such path: ${path}`);
}
