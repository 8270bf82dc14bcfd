/**
 * The body half of an agent token's scope (agent-scope.ts decides the path):
 * what an agent writes must stay inside its cluster.
 *   POST /clusters                 only its own name, with spec.agent: true
 *   PUT / PATCH /clusters/<own>    the result keeps spec.agent: true (else the
 *                                  central controllers would run a skylet for it
 *                                  on the control-plane machine)
 *   PUT /{ns}/jobs/<job>/status    what other clusters' skylets and the scheduler wrote
 *                                  for other clusters (placements, taskStatus, taskDetails,
 *                                  tasksObservedAt, jobIds) unchanged; its own
 *                                  placements may only lose ranks (the scheduler places)
 *   POST / PUT /{ns}/events        about its Cluster or a job placed on it
 * Where the check reads the stored object, the write is pinned to the revision
 * it read (as the role guard does), so a concurrent change makes it a 409
 * rather than a write the check never saw.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, storageKey, type ApiObject } from '../../api/index.js';
import { checkPatched } from '../body-limits.js';
import { decodeBody, jsonPatch, mergePatch, requireObject } from '../body.js';
import type { ServerContext } from '../context.js';
import { bindToPath, deepEqual, forCreate, forUpdate, preconditionOf } from '../objects.js';
import type { Target } from '../router.js';
import { eventInScope, forbidden } from './agent-scope.js';

export function installAgentWriteGuard(app: FastifyInstance, ctx: ServerContext): void {
  // Callback style: every request but an agent's write passes at the cost of two property checks.
  app.addHook('preHandler', (request, _reply, done) => {
    const cluster = request.skyPrincipal?.agentCluster;
    if (cluster === undefined || request.method === 'GET' || request.method === 'HEAD') return done();
    const target = request.skyTarget;
    if (target === undefined || target instanceof ApiError || !('kind' in target)) return done();
    checkAgentWrite(ctx, request, cluster, target).then(() => done(), done);
  });
}

async function checkAgentWrite(ctx: ServerContext, request: FastifyRequest, cluster: string, target: Target): Promise<void> {
  const plural = target.kind.plural;
  const type = request.headers['content-type'];
  if (plural === 'clusters' && target.type === 'collection') {
    const obj = forCreate(
      target.kind,
      bindToPath(target.kind, requireObject(decodeBody(request.body, type).value), undefined, undefined),
      ctx.now,
    ) as ApiObject;
    if (obj.metadata.name !== cluster) throw forbidden(cluster, `create cluster '${obj.metadata.name}'`);
    requireAgentSpec(cluster, obj);
    return;
  }
  if (plural === 'clusters' && target.type === 'object') {
    const { format, value } = decodeBody(request.body, type);
    if (request.method === 'PUT') {
      // Other formats are the handler's 415: nothing is written then.
      if (format === 'json' || format === 'yaml')
        requireAgentSpec(cluster, forCreate(target.kind, bindToPath(target.kind, requireObject(value), undefined, cluster), ctx.now) as ApiObject);
      return;
    }
    if (format !== 'merge-patch' && format !== 'json-patch') return;
    const current = await pinnedCurrent(ctx, request, target);
    const base = { ...current.value, metadata: { ...current.value.metadata, resourceVersion: String(current.revision) } };
    const patched = format === 'merge-patch' ? mergePatch(base, value) : jsonPatch(base, value);
    // Bounded like the handler bounds it, before anything walks it.
    checkPatched(patched);
    requireAgentSpec(cluster, forUpdate(target.kind, bindToPath(target.kind, requireObject(patched), undefined, cluster), current.value) as ApiObject);
    return;
  }
  if (plural === 'jobs' && target.type === 'status' && request.method === 'PUT') {
    const { format, value } = decodeBody(request.body, type);
    if (format !== 'json' && format !== 'yaml') return;
    const body = requireObject(value);
    const current = await pinnedCurrent(ctx, request, target, (body.metadata as Record<string, unknown> | undefined)?.resourceVersion);
    checkJobStatus(cluster, target, current.value, body);
    return;
  }
  if (plural === 'events' && target.namespace !== undefined && (target.type === 'collection' || target.type === 'object')) {
    const { format, value } = decodeBody(request.body, type);
    if (format !== 'json' && format !== 'yaml') return;
    if (!(await eventInScope(ctx, cluster, value, target.namespace))) {
      throw forbidden(cluster, `record an event in namespace '${target.namespace}' about anything but its cluster or a job placed on it`);
    }
  }
}

function requireAgentSpec(cluster: string, obj: ApiObject): void {
  if ((obj.spec as { agent?: unknown } | undefined)?.agent !== true) throw forbidden(cluster, `write cluster '${cluster}' without spec.agent: true`);
}

/** The stored object, and the write pinned to its revision (a client precondition other than that revision is a 409 at once). */
async function pinnedCurrent(
  ctx: ServerContext,
  request: FastifyRequest,
  target: Target & { name?: string },
  bodyRv?: unknown,
): Promise<{ value: ApiObject; revision: number }> {
  const name = 'name' in target ? target.name : '';
  const kv = await ctx.store.get(storageKey(target.kind, target.namespace, name));
  if (!kv) throw new ApiError('NotFound', `${target.kind.singular} '${name}' not found`);
  const asked = preconditionOf(bodyRv, (request.query as Record<string, string | undefined> | undefined)?.resourceVersion);
  if (asked !== undefined && asked !== kv.modRevision) {
    throw new ApiError('Conflict', `${target.kind.singular} '${name}' has been modified since it was read (resourceVersion mismatch); get it again and retry`);
  }
  request.skyPinnedRevision = kv.modRevision;
  return { value: kv.value as unknown as ApiObject, revision: kv.modRevision };
}

/** The status maps keyed by cluster name: each cluster's entry is written by that cluster's skylet (placements: the scheduler). */
const PER_CLUSTER = ['placements', 'taskStatus', 'taskDetails', 'tasksObservedAt', 'jobIds'] as const;

function mapOf(obj: unknown, field: string): Record<string, unknown> {
  const m = (obj as { status?: Record<string, unknown> } | undefined)?.status?.[field];
  return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

function checkJobStatus(cluster: string, target: Target, current: unknown, body: unknown): void {
  const job = `job '${'name' in target ? target.name : ''}'`;
  for (const field of PER_CLUSTER) {
    const before = mapOf(current, field);
    const after = mapOf(body, field);
    for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (name !== cluster && !deepEqual(before[name], after[name])) throw forbidden(cluster, `change status.${field} of ${job} for cluster '${name}'`);
    }
  }
  const had = new Set(Array.isArray(mapOf(current, 'placements')[cluster]) ? (mapOf(current, 'placements')[cluster] as unknown[]) : []);
  const mine = mapOf(body, 'placements')[cluster];
  if (mine !== undefined && (!Array.isArray(mine) || mine.some((rank) => !had.has(rank)))) {
    throw forbidden(cluster, `add ranks to status.placements of ${job}: it may only give ranks up, the scheduler places them`);
  }
}
