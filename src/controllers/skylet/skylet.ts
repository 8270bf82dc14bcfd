/**
 * One Skylet per cluster (DESIGN 6), made of three parts over one shared
 * state (state.ts): heartbeat (heartbeat.ts), flow (flow.ts, an ordered list
 * of steps) and job sync (sync.ts). It shares nothing in memory with the
 * scheduler: what the scheduler must know (a replica started, replicas
 * evicted) it writes to the API, so a skylet can run in another process.
 */
import { type Cluster, type Job } from '../../api/index.js';
import { sleep } from '../../lib/index.js';
import type { ClusterManager } from '../../managers/index.js';
import { errText } from '../runtime/index.js';
import { liveRanks } from './failed-job.js';
import { Flow } from './flow.js';
import { Heartbeat, evictAll } from './heartbeat.js';
import { MIN_HEARTBEAT_GAP_MS, keyOf } from './parts.js';
import { SkyletState, type SkyletDeps } from './state.js';
import { Sync } from './sync.js';

export class Skylet {
  readonly name: string;
  private readonly s: SkyletState;
  private readonly heartbeat: Heartbeat;
  private readonly flow: Flow;
  private readonly sync: Sync;

  constructor(cluster: Cluster, manager: ClusterManager | undefined, buildError: string | undefined, deps: SkyletDeps) {
    this.name = cluster.metadata.name;
    this.s = new SkyletState(this.name, manager, buildError, deps, cluster.status?.phase);
    this.heartbeat = new Heartbeat(this.s);
    this.flow = new Flow(this.s);
    this.sync = new Sync(this.s, (key) => this.flow.add(key));
    for (const job of deps.jobs.list()) this.sync.track(job);
  }

  /** A job changed: submit its share here if it has one. */
  jobChanged(job: Job): void {
    if (!this.sync.track(job)) return;
    const phase = job.status?.phase;
    // FAILED: its replicas still running here are cancelled at once (flow), not at the next sync.
    if (phase === 'ACTIVE' || (phase === 'FAILED' && liveRanks(job, this.name).length > 0)) this.flow.add(keyOf(job));
  }

  /** A job is gone: cancel its work here (the periodic sweep catches what this misses). */
  jobDeleted(job: Job): void {
    this.sync.untrack(job);
    if (!job.metadata.uid) return;
    this.sync.cancelDeleted({ uid: job.metadata.uid, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name });
  }

  /** Heartbeat and job sync run as two loops: a slow heartbeat write never delays noticing a started replica. */
  async run(signal: AbortSignal): Promise<void> {
    const { s } = this;
    const flowDone = this.flow.run(signal);
    const syncDone = this.syncLoop(signal);
    const periodMs = s.deps.options.heartbeatSeconds * 1000;
    while (!signal.aborted) {
      const startedAt = s.deps.clock.now();
      try {
        await this.heartbeat.beat(signal);
        if (s.phase === 'ERROR') await this.heartbeat.evictIfDead(signal);
      } catch (err) {
        if (signal.aborted) break;
        s.deps.logger.warn({ cluster: this.name, err: errText(err) }, 'skylet heartbeat failed');
      }
      if (s.phase === 'READY' && !s.synced) s.syncTrigger.kick();
      const kicked = await s.heartbeatTrigger.wait(s.deps.clock, periodMs, signal);
      // Kicks (submits, started replicas) come in bursts: at most one extra heartbeat per MIN_HEARTBEAT_GAP_MS.
      const gap = MIN_HEARTBEAT_GAP_MS - (s.deps.clock.now() - startedAt);
      if (kicked && gap > 0 && !signal.aborted) await sleep(Math.min(gap, periodMs), signal, s.deps.clock);
    }
    s.stopFollowUp();
    this.flow.shutdown();
    await Promise.all([flowDone, syncDone]);
  }

  private async syncLoop(signal: AbortSignal): Promise<void> {
    const { s } = this;
    while (!signal.aborted) {
      try {
        if (s.phase === 'READY') await this.sync.sync(signal);
      } catch (err) {
        if (signal.aborted) break;
        s.deps.logger.warn({ cluster: this.name, err: errText(err) }, 'job sync failed');
      }
      await s.syncTrigger.wait(s.deps.clock, s.deps.options.heartbeatSeconds * 1000, signal);
    }
  }

  /** One heartbeat and, when READY, one job sync (tests). */
  async tick(signal: AbortSignal): Promise<void> {
    await this.heartbeat.beat(signal);
    if (this.s.phase === 'READY') await this.sync.sync(signal);
    else if (this.s.phase === 'ERROR') await this.heartbeat.evictIfDead(signal);
  }

  /** Every unfinished replica placed here is EVICTED (cluster deleted). */
  evictAll(message: string, signal: AbortSignal): Promise<void> {
    return evictAll(this.s, message, signal);
  }

  /** Cancel everything this manager runs for SkyShift (cluster deleted). */
  async cancelAll(): Promise<void> {
    const manager = this.s.manager;
    if (!manager) return;
    for (const jt of await manager.tasks()) await manager.cancel({ uid: jt.uid, namespace: jt.namespace, name: jt.name });
  }
}
