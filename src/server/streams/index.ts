/**
 * The WebSocket routes of DESIGN section 4: exec and port-forward into a
 * job's task. Work before the upgrade (validation, the job, the task, the
 * manager's capability, starting the command or connecting) answers a Status
 * on failure; only then is the handshake completed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, badRequest, storageKey } from '../../api/index.js';
import { caughtUp, type ServerContext } from '../context.js';
import type { Target } from '../router.js';
import { prepareExec, type Prepared } from './exec.js';
import { execParams, portForwardParams, type RawQuery } from './params.js';
import { preparePortForward } from './portforward.js';
import { handshakeProblem, type Upgrades } from './upgrade.js';

export { Upgrades } from './upgrade.js';
export { CHANNEL, exitStatus } from './exec.js';

/** Response headers of the 101 naming the task reached (a client tells its user which task it defaulted to). */
export const TASK_HEADER = 'x-skyshift-task';
export const TASKS_HEADER = 'x-skyshift-tasks';

/** Open (or opening) exec and port-forward streams one server allows at once. */
export const MAX_STREAMS = 512;

export async function streamRoute(
  ctx: ServerContext,
  upgrades: Upgrades,
  target: Target & { type: 'exec' | 'portforward' },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (request.method !== 'GET') throw new ApiError('MethodNotAllowed', `${request.method} is not allowed on ${target.route}`);
  const query = (typeof request.query === 'object' && request.query !== null ? request.query : {}) as RawQuery;
  // Parameters first: a malformed request is a 400 whether or not it is an upgrade.
  const exec = target.type === 'exec' ? execParams(query) : undefined;
  const forward = target.type === 'portforward' ? portForwardParams(query) : undefined;
  if (!upgrades.isUpgrade(request.raw)) throw badRequest(`${target.route} is a WebSocket route: upgrade the connection (Upgrade: websocket)`);
  const problem = handshakeProblem(request.raw);
  if (problem) throw badRequest(problem);
  const cache = await caughtUp(ctx, target.kind);
  const job = cache.get(storageKey(target.kind, target.namespace, target.name));
  if (!job) throw new ApiError('NotFound', `job '${target.namespace}/${target.name}' not found`);
  // Each stream may hold a process and a connection: bounded like every other thing a client can open.
  if (upgrades.size >= MAX_STREAMS) throw new ApiError('TooManyRequests', `too many exec and port-forward streams open (${MAX_STREAMS}); retry later`);
  const provider = ctx.streams;
  if (!provider) throw new ApiError('ServiceUnavailable', `${target.type} is not available: no cluster managers attached to this API server`);
  const done = upgrades.reserve();
  let prepared: Prepared;
  try {
    prepared = exec ? await prepareExec(provider, job.obj, exec, ctx.signal) : await preparePortForward(provider, job.obj, forward!, ctx.signal);
  } finally {
    done();
  }
  // Who reached into which task is worth a line in the server log (the command's arguments are not: they may hold secrets).
  const user = (request as { skyPrincipal?: { user?: string } | null }).skyPrincipal?.user;
  request.log.info(
    {
      user,
      job: `${target.namespace}/${target.name}`,
      task: prepared.target.task,
      cluster: prepared.target.cluster,
      ...(forward ? { port: forward.port } : {}),
    },
    `${target.type} started`,
  );
  reply.hijack();
  const headers = { [TASK_HEADER]: prepared.target.task, [TASKS_HEADER]: String(prepared.target.tasks) };
  upgrades.accept(
    request.raw,
    headers,
    (ws) => prepared.run(ws),
    () => prepared.abort(),
  );
  return reply;
}
