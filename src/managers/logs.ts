/**
 * A job's logs across clusters: what the API server streams for
 * GET /{ns}/jobs/{name}/logs, read from the managers of the clusters the job
 * is placed on.
 *
 * Output format (decision): kubectl prints raw lines for one pod; we do the
 * same when exactly one task is shown, and prefix every line with `[task] `
 * when several are (several replicas, possibly on several clusters), since a
 * merged stream is unreadable otherwise. Follow streams all tasks at once and
 * ends when every one of them has ended.
 *
 * Managers are built from the Cluster objects (read through `getCluster`, i.e.
 * the server's own store) and cached per cluster spec; they only read files or
 * call cluster APIs, so this works in `skyshift server` on the same host as well
 * as inside `skyshift up`.
 */
import { ApiError, taskName, type ApiObject } from '../api/index.js';
import { byRank, createManagerCache, placedTasks, type ManagerCache, type ManagerCacheOptions } from './manager-cache.js';

/** What the API server asks for (its LogsProvider's options). */
export interface JobLogOptions {
  follow: boolean;
  tail?: number;
  cluster?: string;
  task?: string;
}

/** Either a cache shared with exec/port-forward (streams.ts) or what to build one from. */
export type JobLogsOptions = ManagerCacheOptions | { managers: ManagerCache };

export type JobLogs = (job: ApiObject, options: JobLogOptions, signal: AbortSignal) => AsyncGenerator<string>;

export function createJobLogs(options: JobLogsOptions): JobLogs {
  const managerFor = 'managers' in options ? options.managers : createManagerCache(options);

  return async function* logs(job, opts, signal) {
    const { placements, taskStatus } = placedTasks(job.status);
    const ref = { uid: job.metadata.uid ?? '', namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
    const clusters = new Set<string>([...Object.keys(placements), ...Object.keys(taskStatus)]);
    let targets = [...clusters].sort();
    if (opts.cluster !== undefined) {
      if (!clusters.has(opts.cluster)) throw new ApiError('NotFound', `job '${ref.namespace}/${ref.name}' has no replicas on cluster '${opts.cluster}'`);
      targets = [opts.cluster];
    }
    if (targets.length === 0) throw new ApiError('BadRequest', `job '${ref.namespace}/${ref.name}' has not been placed on any cluster yet; no logs`);
    // One stream per task so lines can be attributed; task names come from the placements.
    const streams: { task: string; cluster: string }[] = [];
    for (const cluster of targets) {
      const names = new Set<string>([...(placements[cluster] ?? []).map((r) => taskName(ref.name, r)), ...Object.keys(taskStatus[cluster] ?? {})]);
      for (const task of [...names].sort(byRank)) if (opts.task === undefined || opts.task === task) streams.push({ task, cluster });
    }
    if (streams.length === 0) throw new ApiError('NotFound', `task '${opts.task ?? ''}' of job '${ref.namespace}/${ref.name}' not found`);
    const prefix = streams.length > 1;
    const sources = await Promise.all(
      streams.map(async ({ task, cluster }) => {
        const manager = await managerFor(cluster);
        return (async function* () {
          try {
            for await (const line of manager.logs(ref, { follow: opts.follow, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), task, signal })) {
              const text = line.endsWith('\n') ? line : line + '\n';
              yield prefix ? `[${task}] ${text}` : text;
            }
          } catch (err) {
            // A replica not started yet (or already cancelled) has no log: say so instead of failing every other stream.
            if (signal.aborted) return;
            yield `[${task}] (no logs: ${err instanceof Error ? err.message : String(err)})\n`;
          }
        })();
      }),
    );
    if (!opts.follow) {
      for (const s of sources) yield* s;
      return;
    }
    yield* merge(sources, signal);
  };
}

/** Interleaves several streams as their items arrive. */
async function* merge(sources: AsyncGenerator<string>[], signal: AbortSignal): AsyncGenerator<string> {
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<string> }>>();
  const next = (i: number) => {
    const s = sources[i];
    if (s)
      pending.set(
        i,
        s.next().then((r) => ({ i, r })),
      );
  };
  sources.forEach((_, i) => next(i));
  try {
    while (pending.size > 0 && !signal.aborted) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      next(i);
      yield r.value;
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined).catch(() => undefined)));
  }
}
