/**
 * The server's logs provider: GET /{ns}/jobs/{name}/logs streams the job's
 * replica logs from the managers of the clusters it is placed on.
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
import { ApiError, kindForPlural, storageKey, type ApiObject } from '../api/index.js';
import { createManager, type ClusterManager, type ClusterRef } from '../managers/index.js';
import type { LogOptions, LogsProvider } from '../server/index.js';

export interface LogsProviderOptions {
  getCluster: (name: string) => Promise<ClusterRef | undefined>;
  managerFactory?: (cluster: ClusterRef) => ClusterManager;
}

interface JobView {
  placements?: Record<string, number[]>;
  taskStatus?: Record<string, Record<string, string>>;
}

export function createLogsProvider(options: LogsProviderOptions): LogsProvider {
  const cache = new Map<string, { spec: string; manager: ClusterManager }>();
  const factory = options.managerFactory ?? ((c: ClusterRef) => createManager(c));

  async function managerFor(name: string): Promise<ClusterManager> {
    const cluster = await options.getCluster(name);
    if (!cluster) throw new ApiError('NotFound', `cluster '${name}' not found`);
    const spec = JSON.stringify(cluster.spec);
    const hit = cache.get(name);
    if (hit && hit.spec === spec) return hit.manager;
    const manager = factory(cluster);
    cache.set(name, { spec, manager });
    return manager;
  }

  return async function* logs(job: ApiObject, opts: LogOptions, signal: AbortSignal): AsyncGenerator<string> {
    const status = (job.status ?? {}) as JobView;
    const ref = { uid: job.metadata.uid ?? '', namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
    const clusters = new Set<string>([...Object.keys(status.placements ?? {}), ...Object.keys(status.taskStatus ?? {})]);
    let targets = [...clusters].sort();
    if (opts.cluster !== undefined) {
      if (!clusters.has(opts.cluster)) throw new ApiError('NotFound', `job '${ref.namespace}/${ref.name}' has no replicas on cluster '${opts.cluster}'`);
      targets = [opts.cluster];
    }
    if (targets.length === 0) throw new ApiError('BadRequest', `job '${ref.namespace}/${ref.name}' has not been placed on any cluster yet; no logs`);
    // One stream per task so lines can be attributed; task names come from the placements.
    const streams: { task: string; cluster: string }[] = [];
    for (const cluster of targets) {
      const ranks = status.placements?.[cluster] ?? [];
      const names = new Set<string>([...ranks.map((r) => `${ref.name}-${r}`), ...Object.keys(status.taskStatus?.[cluster] ?? {})]);
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

function byRank(a: string, b: string): number {
  const ra = Number(/-(\d+)$/.exec(a)?.[1] ?? NaN);
  const rb = Number(/-(\d+)$/.exec(b)?.[1] ?? NaN);
  if (ra !== rb && !Number.isNaN(ra) && !Number.isNaN(rb)) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Interleaves several streams as their items arrive. */
async function* merge(sources: AsyncGenerator<string>[], signal: AbortSignal): AsyncGenerator<string> {
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<string> }>>();
  const next = (i: number) => {
    const s = sources[i];
    if (s) pending.set(i, s.next().then((r) => ({ i, r })));
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

/** The provider as the bins wire it: Cluster objects read straight from the server's own store. */
export function storeLogsProvider(store: { get(key: string): Promise<{ value: unknown } | undefined> }): LogsProvider {
  const clusters = kindForPlural('clusters');
  if (!clusters) throw new Error('cluster kind missing');
  return createLogsProvider({
    getCluster: async (name) => (await store.get(storageKey(clusters, undefined, name)))?.value as ClusterRef | undefined,
  });
}
