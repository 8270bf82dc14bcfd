/**
 * What an agent join token may do (issue 11, interface 2), decided on the
 * same canonical target the Router resolved for every other principal. An
 * agent principal never goes through RBAC: it holds no role, and this table
 * is all it may do (anything else is 403 naming its cluster):
 *   clusters          list/watch (it sees only its own Cluster), create (only
 *                     its own name; agent-writes.ts checks the body), get /
 *                     watch / PUT / PATCH its own, GET / PUT / PATCH its status
 *   jobs              list/watch in a namespace or across all (it sees only
 *                     the jobs whose status.placements names its cluster);
 *                     get / watch such a job, GET and PUT its status
 *   events            create, and get / PUT (the recorder's count bump) one,
 *                     about its Cluster or a job placed on it
 * Nothing else: no deletes, no logs/exec/port-forward, no leases, roles,
 * users, metrics or account routes.
 */
import { ApiError, storageKey, type ApiObject, type KindInfo } from '../../api/index.js';
import { caughtUp, type ServerContext } from '../context.js';
import type { Resolved } from '../router.js';

export function forbidden(cluster: string, what: string): ApiError {
  return new ApiError('Forbidden', `the agent of cluster '${cluster}' may not ${what}: an agent token acts only for its own cluster and the jobs placed on it`);
}

/** The route the agent keeps its tunnel open on (interface 3): whatever Resolved variant names it, its route is this. */
export function isAgentTunnel(target: Resolved): boolean {
  return target.route === '/agent/tunnel';
}

/** True if `job` (a Job object) has replicas placed on `cluster`. */
export function placedOn(job: ApiObject | undefined, cluster: string): boolean {
  const placements = (job?.status as { placements?: Record<string, unknown> } | undefined)?.placements;
  if (placements === undefined || placements === null || typeof placements !== 'object') return false;
  const ranks = Object.hasOwn(placements, cluster) ? placements[cluster] : undefined;
  return Array.isArray(ranks) && ranks.length > 0;
}

/** True if an Event's involvedObject is the agent's Cluster or a job placed on it (looked up in the jobs cache). */
export async function eventInScope(ctx: ServerContext, cluster: string, event: unknown, namespace: string): Promise<boolean> {
  const involved = ((event as { spec?: { involvedObject?: unknown } } | undefined)?.spec?.involvedObject ?? {}) as Record<string, unknown>;
  if (involved.kind === 'Cluster') return involved.name === cluster;
  if (involved.kind !== 'Job' || typeof involved.name !== 'string') return false;
  // A job's events live in the job's namespace.
  if (involved.namespace !== undefined && involved.namespace !== namespace) return false;
  const kind = ctx.caches.get('jobs')?.kind;
  if (kind === undefined) return false;
  const jobs = await caughtUp(ctx, kind);
  return placedOn(jobs.get(storageKey(kind, namespace, involved.name))?.obj, cluster);
}

/**
 * For list and watch: which objects an agent sees, or undefined for any
 * other principal (the common case costs one property check).
 */
export function agentVisibility(agentCluster: string | undefined, kind: KindInfo): ((obj: ApiObject) => boolean) | undefined {
  if (agentCluster === undefined) return undefined;
  if (kind.plural === 'clusters') return (obj) => obj.metadata.name === agentCluster;
  if (kind.plural === 'jobs') return (obj) => placedOn(obj, agentCluster);
  // The gate lets an agent list nothing else; should that change, it sees nothing rather than everything.
  return () => false;
}

/**
 * Resolves if the agent of `cluster` may make this request (before its body
 * is read: agent-writes.ts checks bodies); otherwise rejects with a 403.
 * The agent tunnel route (`GET /agent/tunnel`, src/network) is open to every agent: it serves only the token's own cluster.
 */
export async function checkAgentRequest(ctx: ServerContext, cluster: string, method: string, target: Resolved | ApiError, watch: boolean): Promise<void> {
  // A malformed or unknown path: the handler's 400/404 (it names nothing the agent could reach).
  if (target instanceof ApiError) return;
  const read = method === 'GET' || method === 'HEAD';
  const verb = read ? (watch ? 'watch' : 'get') : method.toLowerCase();
  if (isAgentTunnel(target)) {
    if (method === 'GET') return;
    throw forbidden(cluster, `${verb} ${target.route}`);
  }
  if (target.type === 'operation' || target.type === 'account' || target.type === 'agent-tokens') {
    throw forbidden(cluster, `${verb} ${target.route}`);
  }
  const plural = target.kind.plural;
  const where = target.namespace !== undefined ? ` in namespace '${target.namespace}'` : '';
  const what =
    (target.type === 'collection' ? `${read ? (watch ? 'watch' : 'list') : verb} ${plural}` : `${verb} ${target.route.replace('{name}', target.name)}`) + where;
  const deny = () => forbidden(cluster, what);
  if (plural === 'clusters') {
    if (target.type === 'collection' && (read || method === 'POST')) return;
    if ((target.type === 'object' || target.type === 'status') && target.name === cluster && (read || method === 'PUT' || method === 'PATCH')) return;
    throw deny();
  }
  if (plural === 'jobs') {
    if (target.type === 'collection' && read) return;
    const statusWrite = target.type === 'status' && method === 'PUT';
    if ((target.type === 'object' || target.type === 'status') && (read || statusWrite)) {
      const jobs = await caughtUp(ctx, target.kind);
      if (placedOn(jobs.get(storageKey(target.kind, target.namespace, target.name))?.obj, cluster)) return;
    }
    throw deny();
  }
  if (plural === 'events' && target.namespace !== undefined) {
    if (target.type === 'collection' && method === 'POST') return;
    if (target.type === 'object' && ((read && !watch) || method === 'PUT')) {
      const events = await caughtUp(ctx, target.kind);
      if (await eventInScope(ctx, cluster, events.get(storageKey(target.kind, target.namespace, target.name))?.obj, target.namespace)) return;
    }
    throw deny();
  }
  throw deny();
}
