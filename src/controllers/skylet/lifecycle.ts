/**
 * Cluster lifecycle, the `skylets` controller: one Skylet per Cluster object.
 * Connecting is building the cluster's manager (a bad config is ERROR at
 * once; READY/ERROR then follow the heartbeat). A spec change rebuilds the
 * manager; a deleted cluster is drained — its unfinished replicas EVICTED (so
 * they are placed elsewhere) and its work cancelled — before its skylet stops.
 *
 * Agent clusters (`spec.agent: true`, DESIGN 12) are run by their agent: the
 * central controllers start no skylet for them (agent-health watches their
 * heartbeats instead). An agent runs this controller with `skyletCluster`
 * set to its own cluster, and then every other cluster is ignored.
 */
import { placementsOf, type Cluster, type Job } from '../../api/index.js';
import { createLimiter } from '../../lib/index.js';
import { createManager, type ClusterManager } from '../../managers/index.js';
import type { Controller, ControllerContext } from '../controller.js';
import { errText } from '../runtime/index.js';
import { Skylet } from './skylet.js';
import type { SkyletDeps } from './state.js';

/** Job-sync status writes in flight across all skylets: one budget for all of them keeps 100 clusters' sync
 * writes from queueing at the API server ahead of the scheduler's placements (sync reports progress,
 * placements make it). */
const SYNC_WRITE_SLOTS = 16;

interface Running {
  skylet: Skylet;
  manager: ClusterManager | undefined;
  generation: string;
  abort: AbortController;
  done: Promise<void>;
}

export class ClusterLifecycle implements Controller {
  readonly name = 'skylets';
  private readonly deps: SkyletDeps;
  private readonly running = new Map<string, Running>();
  private signal: AbortSignal | undefined;
  private readonly pending: Cluster[] = [];
  private readonly drains = new Set<Promise<void>>();

  constructor(ctx: ControllerContext) {
    const jobs = ctx.informers.informer<Job>('jobs');
    const clusters = ctx.informers.informer<Cluster>('clusters');
    this.deps = { ...ctx, jobs, clusters, jobByUid: ctx.informers.byUid<Job>('jobs'), syncSlots: createLimiter(SYNC_WRITE_SLOTS) };
    clusters.onAdd((c) => this.ensure(c));
    clusters.onUpdate((_, c) => this.ensure(c));
    clusters.onDelete((c) => this.remove(c));
    // A job event concerns only the skylets of clusters it is placed on now or was placed on before (those
    // drop it): telling all 100 skylets of every one of 10,000 placement writes was 10% of `skyshift up`'s
    // CPU while placing a backlog. A skylet's tracked jobs mirror the informer cache (built from its list,
    // then these events), so the previous object's placements are exactly the skylets that may track it.
    jobs.onAdd((j) => this.dispatch(undefined, j));
    jobs.onUpdate((old, j) => this.dispatch(old, j));
    jobs.onDelete((j: Job) =>
      this.forEach((s) => {
        try {
          s.jobDeleted(j);
        } catch (err) {
          this.deps.logger.warn({ cluster: s.name, job: j?.metadata?.name, err: errText(err) }, 'job deletion not handled');
        }
      }),
    );
  }

  skylet(name: string): Skylet | undefined {
    return this.running.get(name)?.skylet;
  }

  /** Starts the skylets of clusters seen so far and of every later one, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    for (const c of this.pending.splice(0)) this.ensure(c);
    for (const c of this.deps.clusters.list()) this.ensure(c);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.all([...this.running.values()].map((r) => this.stop(r)));
    await Promise.all([...this.drains]);
  }

  private dispatch(old: Job | undefined, job: Job): void {
    // A throw here would reach the informer and abort its relist on every retry: one broken job, logged by name.
    try {
      this.dispatchUnguarded(old, job);
    } catch (err) {
      this.deps.logger.warn({ job: `${job?.metadata?.namespace ?? 'default'}/${job?.metadata?.name}`, err: errText(err) }, 'job event not handled');
    }
  }

  private dispatchUnguarded(old: Job | undefined, job: Job): void {
    const now = placementsOf(job);
    for (const name of Object.keys(now)) this.running.get(name)?.skylet.jobChanged(job);
    if (!old) return;
    for (const name of Object.keys(placementsOf(old))) if (!(name in now)) this.running.get(name)?.skylet.jobChanged(job);
  }

  private forEach(fn: (s: Skylet) => void): void {
    for (const r of this.running.values()) fn(r.skylet);
  }

  private ensure(cluster: Cluster): void {
    if (!this.signal) {
      this.pending.push(cluster);
      return;
    }
    if (this.signal.aborted) return;
    const name = cluster.metadata.name;
    if (!this.runsHere(cluster)) {
      // A cluster that became an agent's: its skylet stops here without draining, the agent takes over its replicas.
      const was = this.running.get(name);
      if (was) {
        this.running.delete(name);
        void this.stop(was);
        this.deps.logger.info({ cluster: name }, 'skylet stopped: the cluster is run by its agent');
      }
      return;
    }
    const generation = JSON.stringify(cluster.spec ?? {});
    const existing = this.running.get(name);
    if (existing && existing.generation === generation) return;
    if (existing) {
      this.running.delete(name);
      void this.stop(existing);
    }
    let manager: ClusterManager | undefined;
    let buildError: string | undefined;
    try {
      manager = this.deps.options.managerFactory ? this.deps.options.managerFactory(cluster) : createManager(cluster);
    } catch (err) {
      buildError = errText(err);
    }
    const skylet = new Skylet(cluster, manager, buildError, this.deps);
    const abort = new AbortController();
    const parent = this.signal;
    parent.addEventListener('abort', () => abort.abort(), { once: true });
    const done = skylet.run(abort.signal).catch((err: unknown) => this.deps.logger.error({ cluster: name, err: errText(err) }, 'skylet stopped'));
    this.running.set(name, { skylet, manager, generation, abort, done });
    this.deps.logger.info({ cluster: name, manager: cluster.spec?.manager }, 'skylet started');
  }

  /** Whether this process runs the cluster's skylet (see the file comment). */
  private runsHere(cluster: Cluster): boolean {
    const only = this.deps.options.skyletCluster;
    if (only !== undefined) return cluster.metadata.name === only;
    return cluster.spec?.agent !== true;
  }

  private async stop(r: Running): Promise<void> {
    r.abort.abort();
    await r.done;
    await r.manager?.close().catch(() => undefined);
  }

  private remove(cluster: Cluster): void {
    const name = cluster.metadata.name;
    const r = this.running.get(name);
    if (!r) return;
    this.running.delete(name);
    const drain = (async () => {
      r.abort.abort();
      await r.done;
      const signal = this.signal ?? new AbortController().signal;
      try {
        await r.skylet.evictAll(`cluster '${name}' was deleted`, signal);
        await r.skylet.cancelAll();
      } catch (err) {
        this.deps.logger.warn({ cluster: name, err: errText(err) }, 'drain of deleted cluster incomplete');
      }
      await r.manager?.close().catch(() => undefined);
      this.deps.events.record(cluster, 'ClusterDeleted', `cluster '${name}' deleted: replicas evicted and its work cancelled`, { source: `skylet/${name}` });
      this.deps.logger.info({ cluster: name }, 'cluster drained');
    })();
    this.drains.add(drain);
    void drain.finally(() => this.drains.delete(drain));
  }
}

export function createSkylets(ctx: ControllerContext): Controller {
  return new ClusterLifecycle(ctx);
}
