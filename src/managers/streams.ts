/**
 * Exec and port-forward for the API server (GET /{ns}/jobs/{name}/exec and
 * /portforward): job + task -> the cluster running it -> its manager -> the
 * manager's exec or portForward capability (a 501 naming the cluster and
 * manager when it has none).
 *
 * Decisions:
 * - The task defaults to the job's first one (lowest rank), as kubectl
 *   defaults to a pod's first container; the answer says which task was
 *   chosen and how many there were so a client can tell the user.
 * - A task the job's status already shows finished is refused here (409).
 *   A task the status shows PENDING or not at all is left to the manager:
 *   the status lags a heartbeat behind, and the manager checks the replica
 *   itself (409 from it too when it is not running).
 */
import { ApiError, taskName, type ApiObject } from '../api/index.js';
import { capability, type ExecSession } from './capabilities.js';
import { byRank, placedTasks, type ManagerCache } from './manager-cache.js';
import type { JobRef } from './types.js';

/** The task an exec or port-forward reaches. */
export interface StreamTarget {
  task: string;
  cluster: string;
  /** True when the caller named no task and the first one was taken. */
  defaulted: boolean;
  /** How many tasks the job has (on every cluster). */
  tasks: number;
}

export interface JobStreams {
  exec(
    job: ApiObject,
    options: { task?: string; command: string[]; tty: boolean; signal: AbortSignal },
  ): Promise<{ target: StreamTarget; session: ExecSession }>;
  portForward(
    job: ApiObject,
    options: { task?: string; port: number; signal: AbortSignal },
  ): Promise<{ target: StreamTarget; stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } }>;
}

/** States after which a task runs nothing any more. */
const FINISHED = new Set(['COMPLETED', 'FAILED', 'EVICTED', 'CANCELLED']);

export function createJobStreams(options: { managers: ManagerCache }): JobStreams {
  return {
    async exec(job, opts) {
      const { ref, target } = resolveTask(job, opts.task);
      const manager = capability(await options.managers(target.cluster), 'exec', target.cluster);
      const session = await manager.exec(ref, { task: target.task, command: opts.command, tty: opts.tty, signal: opts.signal });
      return { target, session };
    },
    async portForward(job, opts) {
      const { ref, target } = resolveTask(job, opts.task);
      const manager = capability(await options.managers(target.cluster), 'portForward', target.cluster);
      const stream = await manager.portForward(ref, { task: target.task, port: opts.port, signal: opts.signal });
      return { target, stream };
    },
  };
}

/** Where `task` (or the first task) of the job runs, from the job's status. */
export function resolveTask(job: ApiObject, wanted: string | undefined): { ref: JobRef; target: StreamTarget } {
  const ref: JobRef = { uid: job.metadata.uid ?? '', namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
  const id = `${ref.namespace}/${ref.name}`;
  const { placements, taskStatus } = placedTasks(job.status);
  // task -> cluster; a task reported on one cluster and placed on another (an eviction in flight) goes where it was placed.
  const where = new Map<string, string>();
  for (const [cluster, tasks] of Object.entries(taskStatus)) for (const task of Object.keys(tasks)) where.set(task, cluster);
  for (const [cluster, ranks] of Object.entries(placements)) for (const rank of ranks) where.set(taskName(ref.name, rank), cluster);
  const names = [...where.keys()].sort(byRank);
  if (names.length === 0) throw new ApiError('Conflict', `job '${id}' has no tasks yet: it is not placed on any cluster`);
  const task = wanted ?? names[0]!;
  const cluster = where.get(task);
  if (cluster === undefined) {
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} in all)` : '');
    throw new ApiError('NotFound', `task '${task}' of job '${id}' not found; its tasks: ${shown}`);
  }
  const state = taskStatus[cluster]?.[task];
  if (typeof state === 'string' && FINISHED.has(state)) throw new ApiError('Conflict', `task '${task}' of job '${id}' is ${state}, not running`);
  return { ref, target: { task, cluster, defaulted: wanted === undefined, tasks: names.length } };
}
