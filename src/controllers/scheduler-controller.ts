/**
 * Scheduler controller (DESIGN 7): places INIT/PENDING jobs, and the evicted
 * (unplaced) replicas of ACTIVE jobs, in priority-then-age order.
 *
 * Restart safety: placements are written to the job status (optimistic
 * concurrency on the informer copy's resourceVersion) BEFORE any skylet
 * submits anything, so a crash after the write never places twice and a crash
 * before it just decides again. The reservation ledger is memory only; at
 * startup every placed-but-not-yet-observed replica is reserved again.
 *
 * Decisions are synchronous and single-threaded (one ledger); the status
 * writes of one pass go out concurrently. A write that fails releases its
 * reservations; the informer's next event brings the job back.
 */
import type { SkyShiftClient } from '../client/index.js';
import type { EventRecorder } from './events.js';
import { errText } from './events.js';
import type { SharedInformers } from './informers.js';
import {
  applyEviction,
  finishStatus,
  getCondition,
  isTerminal,
  placementsOf,
  rankState,
  setCondition,
  unfinishedPlacements,
  unplacedRanks,
} from './job-status.js';
import {
  Scheduler,
  commitPlacement,
  evictionsFor,
  sortPending,
  type Reservations,
  type SchedCluster,
  type SchedFilterPolicy,
  type SchedJob,
} from './scheduler/index.js';
import { mutateStatus } from './status-writer.js';
import { Trigger } from './trigger.js';
import type { ClusterObj, ControllerDeps, FilterPolicyObj, JobObj } from './types.js';

/** Status writes in flight at once during a pass. */
const WRITE_CONCURRENCY = 32;
/** Checks for maxPendingSeconds and reservation expiry run this often even without events. */
const RESYNC_MS = 2_000;

export class SchedulerController {
  private readonly scheduler = new Scheduler();
  private readonly trigger = new Trigger();
  /** job key -> resourceVersion we wrote; a cache copy older than it is stale and skipped. */
  private readonly written = new Map<string, number>();
  private readonly inflight = new Set<string>();
  private started = false;

  constructor(
    private readonly client: SkyShiftClient,
    private readonly informers: SharedInformers,
    private readonly reservations: Reservations,
    private readonly recorder: EventRecorder,
    private readonly deps: ControllerDeps,
  ) {
    const { jobs, clusters, policies } = informers;
    jobs.onAdd((j) => this.onJob(j));
    jobs.onUpdate((_, j) => this.onJob(j));
    jobs.onDelete((j) => {
      if (j.metadata.uid) this.reservations.release(j.metadata.uid);
      this.written.delete(keyOf(j));
    });
    clusters.onAdd(() => this.trigger.kick());
    clusters.onUpdate((_, c) => this.onCluster(c));
    clusters.onDelete(() => this.trigger.kick());
    policies.onAdd((p) => this.onPolicy(p));
    policies.onUpdate((_, p) => this.onPolicy(p));
    policies.onDelete(() => this.trigger.kick());
  }

  /** Ask for a scheduling pass (e.g. after an eviction). */
  kick(): void {
    this.trigger.kick();
  }

  async run(signal: AbortSignal): Promise<void> {
    this.rebuildReservations();
    this.started = true;
    await this.enforcePolicies(signal);
    let full = true;
    while (!signal.aborted) {
      try {
        await this.pass(signal, full);
      } catch (err) {
        if (signal.aborted) break;
        this.deps.logger.error({ err: errText(err) }, 'scheduling pass failed');
      }
      full = await this.trigger.wait(this.deps.clock, RESYNC_MS, signal);
    }
  }

  /** Placed replicas not yet visible on their cluster hold capacity again (the ledger died with the last process). */
  rebuildReservations(): void {
    const clusters = new Map(this.informers.clusters.list().map((c) => [c.metadata.name, c]));
    const now = this.deps.clock.now();
    for (const job of this.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE' || !job.metadata.uid) continue;
      const demand = job.spec.resources ?? {};
      for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
        const nodes = Object.keys(clusters.get(cluster)?.status?.allocatable ?? {}).sort();
        const node = nodes[0] ?? cluster;
        for (const r of ranks) {
          const s = rankState(job, cluster, r);
          if (s === 'PENDING' || s === 'INIT') this.reservations.reserve(job.metadata.uid, cluster, node, r, toSchedResources(demand), now);
        }
      }
    }
  }

  private onJob(job: JobObj): void {
    const rv = Number(job.metadata.resourceVersion);
    const mine = this.written.get(keyOf(job));
    if (mine !== undefined && rv >= mine) this.written.delete(keyOf(job));
    if (isTerminal(job.status?.phase) && job.metadata.uid) this.reservations.release(job.metadata.uid);
    if (needsScheduling(job)) this.trigger.kick();
  }

  private onCluster(c: ClusterObj): void {
    const hb = Date.parse(c.status?.lastHeartbeatTime ?? '');
    // The heartbeat now in our cache was taken after these submissions: their usage is in allocatable.
    if (!Number.isNaN(hb)) this.reservations.confirmHeartbeat(c.metadata.name, hb);
    this.trigger.kick();
  }

  private onPolicy(_p: FilterPolicyObj): void {
    if (!this.started) return;
    void this.enforcePolicies(new AbortController().signal)
      .catch((err: unknown) => this.deps.logger.error({ err: errText(err) }, 'policy eviction failed'))
      .finally(() => this.trigger.kick());
  }

  /** Replicas running where a FilterPolicy now forbids them are EVICTED (the skylet cancels them) and placed again. */
  async enforcePolicies(signal: AbortSignal): Promise<void> {
    const policies = this.schedPolicies();
    if (policies.length === 0) return;
    for (const job of this.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE') continue;
      const evictions = evictionsFor(toSchedJob(job), unfinishedPlacements(job), policies);
      for (const ev of evictions) {
        await this.evict(job, ev.cluster, ev.ranks, `replicas ${ev.ranks.join(',')} evicted from cluster '${ev.cluster}': ${ev.reason}`, signal);
      }
    }
  }

  async evict(job: JobObj, cluster: string, ranks: number[], message: string, signal: AbortSignal): Promise<void> {
    let removed = 0;
    const out = await mutateStatus(
      this.client,
      'jobs',
      job,
      (j) => {
        removed = applyEviction(j.status, cluster, ranks);
        if (removed === 0) return false;
        finishStatus(j);
        return true;
      },
      { signal },
    );
    if (!out || removed === 0) return;
    if (job.metadata.uid) for (const r of ranks) this.reservations.release(job.metadata.uid, r);
    this.recorder.record(out, 'Evicted', message, { source: 'scheduler' });
  }

  private schedPolicies(): SchedFilterPolicy[] {
    return this.informers.policies.list().map((p) => ({
      namespace: p.metadata.namespace ?? 'default',
      name: p.metadata.name,
      labelsSelector: p.spec?.labelsSelector ?? {},
      clusterFilter: { include: p.spec?.clusterFilter?.include ?? [], exclude: p.spec?.clusterFilter?.exclude ?? [] },
    }));
  }

  /**
   * `full`: something changed (a kick), so every pending job is decided again.
   * Otherwise (the periodic resync) only deadlines are checked, unless expired
   * reservations freed capacity — re-deciding 10,000 unchanged pending jobs
   * every few seconds would only burn CPU.
   */
  private async pass(signal: AbortSignal, full: boolean): Promise<void> {
    const now = this.deps.clock.now();
    if (this.reservations.expire(now) > 0) full = true;
    const clusterObjs = this.informers.clusters.list();
    const known = new Set(clusterObjs.map((c) => c.metadata.name));
    this.scheduler.capacity.retain(known);
    const clusters: SchedCluster[] = clusterObjs
      .map((c) => ({
        name: c.metadata.name,
        phase: c.status?.phase ?? 'INIT',
        ...(c.status?.message ? { message: c.status.message } : {}),
        labels: c.metadata.labels ?? {},
        allocatable: c.status?.allocatable ?? EMPTY,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const policies = this.schedPolicies();

    const writes: Promise<void>[] = [];
    const candidates: JobObj[] = [];
    for (const job of this.informers.jobs.list()) {
      const key = keyOf(job);
      if (this.inflight.has(key)) continue;
      const mine = this.written.get(key);
      if (mine !== undefined && Number(job.metadata.resourceVersion) < mine) continue;
      if (job.status?.phase === 'ACTIVE') {
        // Placements on clusters that no longer exist (deleted while we were down) are evicted.
        for (const cluster of Object.keys(placementsOf(job))) {
          if (!known.has(cluster)) {
            const ranks = placementsOf(job)[cluster] ?? [];
            writes.push(this.guard(key, () => this.evict(job, cluster, ranks, `cluster '${cluster}' no longer exists`, signal)));
          }
        }
      }
      if (needsScheduling(job)) candidates.push(job);
    }
    await Promise.all(writes);
    writes.length = 0;

    const queue = sortPending(candidates.map((job) => ({ job, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name, priority: job.spec.priority ?? 0, creationTimestamp: job.metadata.creationTimestamp })));
    let running = 0;
    const slots: (() => void)[] = [];
    const limited = async (fn: () => Promise<void>) => {
      while (running >= WRITE_CONCURRENCY) await new Promise<void>((r) => slots.push(r));
      running++;
      try {
        await fn();
      } finally {
        running--;
        slots.shift()?.();
      }
    };

    for (const { job } of queue) {
      if (signal.aborted) break;
      const key = keyOf(job);
      const phase = job.status?.phase ?? 'INIT';
      const maxPending = job.spec.maxPendingSeconds;
      if (maxPending !== undefined && phase !== 'ACTIVE') {
        const created = Date.parse(job.metadata.creationTimestamp ?? '');
        if (!Number.isNaN(created) && now - created > maxPending * 1000) {
          writes.push(this.guard(key, () => limited(() => this.failPending(job, maxPending, signal))));
          continue;
        }
      }
      if (!full) continue;
      const ranks = unplacedRanks(job);
      const decision = this.scheduler.schedule({ clusters, policies, job: toSchedJob(job), ranks, reservations: this.reservations });
      if (decision.kind === 'placed') {
        commitPlacement(this.reservations, decision, now);
        writes.push(this.guard(key, () => limited(() => this.writePlaced(job, decision.placed, decision.ranking, signal))));
      } else {
        const cond = getCondition(job, 'Scheduled');
        const wantPhase = phase === 'ACTIVE' ? 'ACTIVE' : 'PENDING';
        if (cond?.status === 'False' && cond.message === decision.message && phase === wantPhase) continue;
        writes.push(this.guard(key, () => limited(() => this.writePending(job, wantPhase, decision.message, signal))));
      }
    }
    await Promise.all(writes);
  }

  /** Runs one write for a job; a job is never written twice at once. */
  private async guard(key: string, fn: () => Promise<void>): Promise<void> {
    this.inflight.add(key);
    try {
      await fn();
    } catch (err) {
      this.deps.logger.warn({ job: key, err: errText(err) }, 'job status write failed; will retry');
    } finally {
      this.inflight.delete(key);
    }
  }

  private async writePlaced(job: JobObj, placed: Record<string, number[]>, ranking: string[], signal: AbortSignal): Promise<void> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const copy = structuredClone(job);
    copy.status ??= {};
    const placements = { ...(copy.status.placements ?? {}) };
    for (const [cluster, ranks] of Object.entries(placed)) {
      placements[cluster] = [...new Set([...(placements[cluster] ?? []), ...ranks])].sort((a, b) => a - b);
    }
    copy.status.placements = placements;
    copy.status.phase = 'ACTIVE';
    const summary = Object.entries(placed)
      .map(([c, r]) => `${c}: ${r.length}`)
      .join(', ');
    copy.status.conditions = setCondition(copy.status.conditions, { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: `placed ${summary}` }, nowIso);
    finishStatus(copy);
    try {
      // Written with the cache copy's resourceVersion: if anyone wrote since, we decided on stale data.
      const out = await this.client.updateStatus<JobObj>('jobs', copy, { signal });
      this.written.set(keyOf(job), Number(out.metadata.resourceVersion));
      this.recorder.record(out, 'Scheduled', `placed ${summary} (ranks ${Object.entries(placed).map(([c, r]) => `${c}: ${r.join(',')}`).join('; ')}); candidates best first: ${ranking.join(', ')}`, { source: 'scheduler' });
    } catch (err) {
      if (job.metadata.uid) for (const ranks of Object.values(placed)) for (const r of ranks) this.reservations.release(job.metadata.uid, r);
      throw err;
    }
  }

  private async writePending(job: JobObj, phase: 'PENDING' | 'ACTIVE', message: string, signal: AbortSignal): Promise<void> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const out = await mutateStatus(
      this.client,
      'jobs',
      job,
      (j) => {
        if (!needsScheduling(j)) return false;
        j.status.phase = phase;
        j.status.conditions = setCondition(j.status.conditions, { type: 'Scheduled', status: 'False', reason: 'Unschedulable', message }, nowIso);
        return true;
      },
      { signal, attempts: 2 },
    );
    if (out && out !== job) {
      this.written.set(keyOf(job), Number(out.metadata.resourceVersion));
      this.recorder.record(out, 'FailedScheduling', message, { source: 'scheduler' });
    }
  }

  private async failPending(job: JobObj, maxPending: number, signal: AbortSignal): Promise<void> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const message = `not placed within maxPendingSeconds (${maxPending} s); last reason: ${getCondition(job, 'Scheduled')?.message ?? 'none'}`;
    const out = await mutateStatus(
      this.client,
      'jobs',
      job,
      (j) => {
        if (j.status.phase === 'ACTIVE' || isTerminal(j.status.phase)) return false;
        j.status.phase = 'FAILED';
        j.status.conditions = setCondition(j.status.conditions, { type: 'Failed', status: 'True', reason: 'PendingTimeout', message }, nowIso);
        return true;
      },
      { signal },
    );
    if (out && out !== job) this.recorder.record(out, 'Failed', message, { source: 'scheduler' });
  }
}

const EMPTY: Record<string, Record<string, number>> = {};

function keyOf(job: JobObj): string {
  return `${job.metadata.namespace ?? 'default'}/${job.metadata.name}`;
}

/** INIT/PENDING jobs, and ACTIVE jobs with replicas not placed anywhere (evicted ones). */
export function needsScheduling(job: JobObj): boolean {
  const phase = job.status?.phase ?? 'INIT';
  if (phase === 'INIT' || phase === 'PENDING') return true;
  return phase === 'ACTIVE' && unplacedRanks(job).length > 0;
}

function toSchedResources(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number') out[k] = v;
  return out;
}

export function toSchedJob(job: JobObj): SchedJob {
  const placement = (job.spec.placement ?? {}) as { filters?: any[]; preferences?: any[] };
  return {
    namespace: job.metadata.namespace ?? 'default',
    name: job.metadata.name,
    uid: job.metadata.uid ?? `${job.metadata.namespace}/${job.metadata.name}`,
    labels: job.metadata.labels ?? {},
    replicas: Math.max(1, job.spec.replicas ?? 1),
    resources: toSchedResources(job.spec.resources ?? {}),
    placement: {
      filters: (placement.filters ?? []).map((f, i) => ({ ...f, name: f.name ?? `filter-${i}` })),
      preferences: (placement.preferences ?? []).map((p, i) => ({ ...p, name: p.name ?? `preference-${i}`, weight: p.weight ?? 1 })),
    },
    priority: job.spec.priority ?? 0,
    ...(job.metadata.creationTimestamp ? { creationTimestamp: job.metadata.creationTimestamp } : {}),
  };
}
