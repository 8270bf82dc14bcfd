/**
 * Scheduler controller (DESIGN 7): places INIT/PENDING jobs, and the evicted
 * (unplaced) replicas of ACTIVE jobs, in priority-then-age order.
 *
 * Cost follows the work, not the backlog: informer events keep an ordered
 * pending queue and a capacity view up to date; a pass decides only jobs that
 * are new or whose last "does not fit" was at an older capacity generation
 * (capacity-view.ts), one after another against the in-memory ledger, and
 * hands the status writes to a bounded pipeline without waiting for them.
 * Within a pass, a job shaped like one that just did not fit is not decided
 * again (a heartbeat that frees room mid-pass moves the generation, so such
 * jobs get another try in the next pass).
 *
 * Restart safety: placements are written to the job status (optimistic
 * concurrency on the informer copy's resourceVersion) BEFORE any skylet
 * submits anything, so a crash after the write never places twice and a crash
 * before it (decided, not yet written) just decides again. The reservation
 * ledger is memory only; at startup every placed-but-not-yet-observed replica
 * is reserved again. A write that fails releases its reservations and puts
 * the job back in the queue.
 *
 * Poison jobs (scheduler-poison.ts): a job that is invalid, or that made a
 * decision throw, is taken out of the queue and marked FAILED; it never
 * stops a pass or holds capacity.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SkyShiftClient } from '../client/index.js';
import { CapacityView } from './capacity-view.js';
import { errText, type EventRecorder } from './events.js';
import type { SharedInformers } from './informers.js';
import { applyEviction, finishStatus, getCondition, isTerminal, placementsOf, rankState, unfinishedPlacements, unplacedRanks } from './job-status.js';
import { observeDecision, pendingGauge, statusWrites } from './metrics.js';
import { PendingQueue, keyOf, type PendingEntry } from './pending-queue.js';
import { jobProblem } from './sanity.js';
import { shapeOf, toSchedJob, toSchedResources } from './sched-job.js';
import { Scheduler, commitPlacement, evictionsFor, type Decision, type PlacedDecision, type Reservations, type SchedFilterPolicy } from './scheduler/index.js';
import { PoisonJobs } from './scheduler-poison.js';
import { needsScheduling, placedSummary, writePendingTimeout, writePlacement, writeUnschedulable } from './scheduler-writes.js';
import { mutateStatus } from './status-writer.js';
import { Trigger } from './trigger.js';
import type { ClusterObj, ControllerDeps, FilterPolicyObj, JobObj } from './types.js';
import { WritePipeline } from './write-pipeline.js';

export { needsScheduling } from './scheduler-writes.js';
export { toSchedJob } from './sched-job.js';

/** Status writes in flight at once. */
const WRITE_CONCURRENCY = 32;
/** Deadlines (maxPendingSeconds), reservation expiry and deferred reason updates are checked this often. */
const RESYNC_MS = 2_000;
/** A pending job's reasons (e.g. "largest free 2") are rewritten at most this often when only they changed. */
const MESSAGE_REFRESH_MS = 5_000;
/** Decide for at most this long before letting I/O (informer events, write replies) run. */
const SLICE_MS = 8;

export class SchedulerController {
  private readonly engine = new Scheduler();
  private readonly view: CapacityView;
  private readonly queue = new PendingQueue();
  /** Queue keys that need a decision although the capacity generation did not move (new or changed jobs). */
  private readonly fresh = new Set<string>();
  private readonly pipeline = new WritePipeline(WRITE_CONCURRENCY);
  private readonly trigger = new Trigger();
  /** job key -> resourceVersion we wrote; a cache copy older than it is stale and skipped. */
  private readonly written = new Map<string, number>();
  /** Jobs with a status write of ours in flight: never decided or written twice at once. */
  private readonly inflight = new Set<string>();
  /** Jobs with a "why pending" write queued but not started; placing the job first drops it. */
  private readonly queuedPending = new Set<string>();
  private readonly poison: PoisonJobs;
  private policies: SchedFilterPolicy[] = [];
  private lastGen = -1;
  private lastResync = 0;
  private started = false;
  private signal: AbortSignal = new AbortController().signal;

  constructor(
    private readonly client: SkyShiftClient,
    private readonly informers: SharedInformers,
    private readonly reservations: Reservations,
    private readonly recorder: EventRecorder,
    private readonly deps: ControllerDeps,
  ) {
    this.view = new CapacityView(this.engine, reservations);
    this.poison = new PoisonJobs(client, recorder, deps, () => this.signal);
    const { jobs, clusters, policies } = informers;
    // A handler that throws would abort the informer's relist on every retry: caught per job here.
    jobs.onAdd((j) => this.guarded(j, () => this.onJob(j)));
    jobs.onUpdate((_, j) => this.guarded(j, () => this.onJob(j)));
    jobs.onDelete((j) => this.guarded(j, () => this.onJobDeleted(j)));
    clusters.onAdd((c) => this.onCluster(c));
    clusters.onUpdate((_, c) => this.onCluster(c));
    clusters.onDelete((c) => this.onClusterDeleted(c));
    policies.onAdd((p) => this.onPolicy(p));
    policies.onUpdate((_, p) => this.onPolicy(p));
    policies.onDelete((p) => this.onPolicy(p));
  }

  /** Ask for a scheduling pass (e.g. after an eviction). */
  kick(): void {
    this.trigger.kick();
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.policies = this.schedPolicies();
    this.rebuildReservations();
    this.started = true;
    await this.evictFromDeletedClusters(signal);
    await this.enforcePolicies(signal);
    while (!signal.aborted) {
      try {
        await this.pass(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.deps.logger.error({ err: errText(err) }, 'scheduling pass failed');
      }
      await this.trigger.wait(this.deps.clock, RESYNC_MS, signal);
    }
    await this.pipeline.idle();
  }

  /** Placed replicas not yet visible on their cluster hold capacity again (the ledger died with the last process). */
  rebuildReservations(): void {
    const clusters = new Map(this.informers.clusters.list().map((c) => [c.metadata.name, c]));
    const now = this.deps.clock.now();
    for (const job of this.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE' || !job.metadata.uid || jobProblem(job) !== undefined) continue;
      const demand = toSchedResources(job.spec.resources ?? {});
      for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
        const node = Object.keys(clusters.get(cluster)?.status?.allocatable ?? {}).sort()[0] ?? cluster;
        for (const r of ranks) {
          const s = rankState(job, cluster, r);
          if (s === 'PENDING' || s === 'INIT') this.reservations.reserve(job.metadata.uid, cluster, node, r, demand, now);
        }
      }
    }
    this.view.bump();
  }

  // --- informer events: keep the queue and the capacity view current ---

  private onJob(job: JobObj): void {
    const key = keyOf(job);
    const mine = this.written.get(key);
    if (mine !== undefined) {
      // An event older than our own write shows a state we already moved past.
      if (Number(job.metadata.resourceVersion) < mine) return;
      this.written.delete(key);
    }
    const terminal = isTerminal(job.status?.phase);
    if (terminal && job.metadata.uid && this.reservations.release(job.metadata.uid) > 0) this.capacityFreed();
    const poisoned = !terminal && this.poison.check(job);
    if (poisoned && job.metadata.uid && this.reservations.release(job.metadata.uid) > 0) this.capacityFreed();
    if (terminal || poisoned || !needsScheduling(job)) {
      this.queue.remove(key);
      this.fresh.delete(key);
      return;
    }
    const shape = shapeOf(job);
    const entry = this.queue.upsert(job);
    if (entry.shape !== shape) {
      entry.shape = shape;
      delete entry.failedGen;
    }
    if (entry.failedGen !== this.view.generation) {
      this.fresh.add(key);
      this.trigger.kick();
    }
  }

  private onJobDeleted(job: JobObj): void {
    const key = keyOf(job);
    this.queue.remove(key);
    this.fresh.delete(key);
    this.written.delete(key);
    this.queuedPending.delete(key);
    this.poison.forget(key);
    if (job.metadata.uid && this.reservations.release(job.metadata.uid) > 0) this.capacityFreed();
  }

  /** Runs an informer handler; a throw marks that job (ReconcileFailed) instead of reaching the informer. */
  private guarded(job: JobObj, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.dropFailed(job, err);
    }
  }

  /** Deciding on `job` threw: out of the queue until it changes, marked FAILED, capacity released. */
  private dropFailed(job: JobObj, err: unknown): void {
    try {
      const key = keyOf(job);
      this.queue.remove(key);
      this.fresh.delete(key);
      this.poison.failed(job, err);
      if (job.metadata?.uid && this.reservations.release(job.metadata.uid) > 0) this.capacityFreed();
    } catch (inner) {
      this.deps.logger.error({ job: job?.metadata?.name, err: errText(inner) }, 'could not set aside a job the scheduler failed on');
    }
  }

  private onCluster(c: ClusterObj): void {
    const gen = this.view.generation;
    // The heartbeat in our cache was taken after these submissions: their usage is in allocatable.
    this.view.upsert(c, Date.parse(c.status?.lastHeartbeatTime ?? ''));
    if (this.view.generation !== gen) this.trigger.kick();
  }

  private onClusterDeleted(c: ClusterObj): void {
    this.view.remove(c.metadata.name);
    if (this.started) void this.evictFromDeletedClusters(this.signal).catch((err: unknown) => this.deps.logger.warn({ err: errText(err) }, 'eviction from deleted cluster failed'));
    this.trigger.kick();
  }

  private onPolicy(_p: FilterPolicyObj): void {
    this.policies = this.schedPolicies();
    this.view.bump();
    if (!this.started) return;
    void this.enforcePolicies(this.signal)
      .catch((err: unknown) => this.deps.logger.error({ err: errText(err) }, 'policy eviction failed'))
      .finally(() => this.trigger.kick());
  }

  private capacityFreed(): void {
    this.view.bump();
    this.trigger.kick();
  }

  // --- evictions (scheduler-owned, so the ledger stays consistent) ---

  /** Replicas running where a FilterPolicy now forbids them are EVICTED (the skylet cancels them) and placed again. */
  async enforcePolicies(signal: AbortSignal): Promise<void> {
    if (this.policies.length === 0) return;
    for (const job of this.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE' || jobProblem(job) !== undefined) continue;
      for (const ev of evictionsFor(toSchedJob(job), unfinishedPlacements(job), this.policies)) {
        await this.evict(job, ev.cluster, ev.ranks, `replicas ${ev.ranks.join(',')} evicted from cluster '${ev.cluster}': ${ev.reason}`, signal);
      }
    }
  }

  /** Placements on clusters that no longer exist (deleted while we were down, or just now) are evicted. */
  private async evictFromDeletedClusters(signal: AbortSignal): Promise<void> {
    for (const job of this.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE' || jobProblem(job) !== undefined) continue;
      for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
        if (!this.view.has(cluster)) await this.evict(job, cluster, ranks, `cluster '${cluster}' no longer exists`, signal);
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
    this.capacityFreed();
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

  // --- the pass ---

  private async pass(signal: AbortSignal): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastResync >= RESYNC_MS) {
      this.lastResync = now;
      const expired = this.reservations.expire(now);
      if (expired.length > 0) {
        // Should not happen: a replica the manager never showed, or a cluster whose job sync stopped. The room is
        // handed back to the scheduler on trust in the last heartbeat, which may not show that replica.
        const sample = expired.slice(0, 5).map((e) => `${e.jobUid}#${e.rank}@${e.cluster}`);
        this.deps.logger.warn({ count: expired.length, ttlMs: this.reservations.ttlMs, sample }, 'reservations expired without being confirmed by a heartbeat');
        this.view.bump();
      }
      this.resync(now);
      this.poison.retry(now);
    }
    const gen = this.view.generation;
    // Capacity grew (or eligibility changed): everything that did not fit gets another try. Otherwise only new jobs.
    const entries = gen !== this.lastGen ? this.queue.snapshot() : this.freshEntries();
    this.lastGen = gen;
    this.fresh.clear();
    /**
     * Shape -> a "does not fit" decision made in this pass. A heartbeat arriving mid-pass may free room, but
     * it also moves the capacity generation, so the next pass tries those jobs again.
     */
    const noFit = new Map<string, Decision>();
    let sliceStart = performance.now();
    for (const entry of entries) {
      if (signal.aborted) return;
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
      const { key } = entry;
      if (this.queue.get(key) !== entry || this.inflight.has(key) || entry.failedGen === gen) continue;
      const job = entry.job;
      const mine = this.written.get(key);
      if (mine !== undefined && Number(job.metadata.resourceVersion) < mine) continue;
      let shape: string;
      let decision: Decision | undefined;
      try {
        const ranks = unplacedRanks(job);
        shape = entry.shape ?? shapeOf(job);
        decision = noFit.get(shape);
        if (!decision) {
          const t0 = performance.now();
          // The view's current list, never one taken at the start of the pass: the pass yields to I/O, and a
          // heartbeat handled meanwhile releases the reservations its snapshot shows. Deciding on the older
          // cluster object (allocatable from before those replicas started) minus the smaller ledger counted
          // their room as free again: sims over-committed ~1.8x in the 10,000-job bench.
          const clusters = this.view.list();
          decision = this.engine.schedule({ clusters, policies: this.policies, job: toSchedJob(job), ranks, reservations: this.reservations });
          observeDecision((performance.now() - t0) / 1000, decision.kind === 'placed');
        }
      } catch (err) {
        // One job that breaks a decision must not break every pass after it.
        this.dropFailed(job, err);
        continue;
      }
      if (decision.kind === 'placed') {
        commitPlacement(this.reservations, decision, now);
        this.queue.remove(key);
        this.queuedPending.delete(key);
        this.startWrite(key, () => this.writePlaced(job, decision), true);
        continue;
      }
      noFit.set(shape, decision);
      entry.failedGen = gen;
      entry.decidedMessage = decision.message;
      this.maybeWritePending(entry, now);
    }
    pendingGauge.set(this.queue.size);
  }

  private freshEntries(): PendingEntry[] {
    const out: PendingEntry[] = [];
    for (const key of this.fresh) {
      const e = this.queue.get(key);
      if (e) out.push(e);
    }
    // Queue order among the new ones; the others did not fit at this generation and still do not.
    return out.length > 1 ? this.queue.snapshot().filter((e) => this.fresh.has(e.key)) : out;
  }

  /** Deadlines and deferred reason updates: O(queue) but only every RESYNC_MS. */
  private resync(now: number): void {
    for (const entry of this.queue.snapshot()) {
      if (this.inflight.has(entry.key)) continue;
      const job = entry.job;
      const maxPending = job.spec.maxPendingSeconds;
      if (maxPending !== undefined && job.status?.phase !== 'ACTIVE') {
        const created = Date.parse(job.metadata.creationTimestamp ?? '');
        if (!Number.isNaN(created) && now - created > maxPending * 1000) {
          const message = `not placed within maxPendingSeconds (${maxPending} s); last reason: ${getCondition(job, 'Scheduled')?.message ?? 'none'}`;
          this.startWrite(entry.key, async () => {
            const out = await writePendingTimeout(this.client, job, message, this.nowIso(), this.signal);
            if (out) this.recorder.record(out, 'Failed', message, { source: 'scheduler' });
          });
          continue;
        }
      }
      if (entry.decidedMessage !== undefined) this.maybeWritePending(entry, now);
    }
  }

  /** Writes the "why pending" condition, unless it already says so; a changed reason alone is written at most every MESSAGE_REFRESH_MS. */
  private maybeWritePending(entry: PendingEntry, now: number): void {
    const job = entry.job;
    const message = entry.decidedMessage;
    if (message === undefined || this.inflight.has(entry.key) || this.queuedPending.has(entry.key)) return;
    const phase = job.status?.phase ?? 'INIT';
    const wantPhase = phase === 'ACTIVE' ? 'ACTIVE' : 'PENDING';
    const cond = getCondition(job, 'Scheduled');
    const shown = cond?.status === 'False' && phase === wantPhase;
    if (shown && cond.message === message) return;
    if (shown && entry.writtenAt !== undefined && now - entry.writtenAt < MESSAGE_REFRESH_MS) return;
    entry.writtenAt = now;
    const key = entry.key;
    this.queuedPending.add(key);
    this.pipeline.push(async () => {
      // Placed (or another write started) while this waited: nothing to say any more.
      if (!this.queuedPending.delete(key) || this.inflight.has(key)) return;
      // The newest decision and copy by now: a write queued behind a burst may have waited a while.
      const latest = this.queue.get(key);
      const text = latest?.decidedMessage;
      if (!latest || text === undefined) return;
      const copy = latest.job;
      const phaseNow = copy.status?.phase === 'ACTIVE' ? 'ACTIVE' : 'PENDING';
      await this.runWrite(key, false, async () => {
        const out = await writeUnschedulable(this.client, copy, phaseNow, text, this.nowIso(), this.signal);
        if (!out) return;
        this.written.set(key, Number(out.metadata.resourceVersion));
        this.recorder.record(out, 'FailedScheduling', text, { source: 'scheduler' });
      });
    }, true);
  }

  /** Queues one status write of a job; a job never has two in flight. */
  private startWrite(key: string, fn: () => Promise<void>, placement = false): void {
    this.inflight.add(key);
    this.pipeline.push(() => this.runWrite(key, placement, fn));
  }

  /** One status write of a job, with `key` marked in flight meanwhile; the job is looked at again afterwards. */
  private async runWrite(key: string, placement: boolean, fn: () => Promise<void>): Promise<void> {
    this.inflight.add(key);
    try {
      await fn();
      statusWrites.inc({ kind: placement ? 'placement' : 'pending', outcome: 'ok' });
    } catch (err) {
      statusWrites.inc({ kind: placement ? 'placement' : 'pending', outcome: 'error' });
      if (!this.signal.aborted) this.deps.logger.warn({ job: key, err: errText(err) }, 'job status write failed; will decide again');
    } finally {
      this.inflight.delete(key);
      this.requeue(key);
    }
  }

  /** After a write: the job goes back in the queue if the cache says it still needs a placement. */
  private requeue(key: string): void {
    const job = this.informers.jobs.get(key);
    if (!job) return;
    const mine = this.written.get(key);
    if (mine !== undefined && Number(job.metadata.resourceVersion) < mine) return;
    if (this.poison.check(job) || !needsScheduling(job)) return;
    const entry = this.queue.upsert(job);
    entry.shape ??= shapeOf(job);
    if (entry.failedGen !== this.view.generation) {
      this.fresh.add(key);
      this.trigger.kick();
    }
  }

  private async writePlaced(job: JobObj, decision: PlacedDecision): Promise<void> {
    let out: JobObj;
    try {
      out = await writePlacement(this.client, job, decision.placed, this.nowIso(), this.signal);
    } catch (err) {
      // Not written: the capacity it held is free again and the job will be decided again.
      if (job.metadata.uid) for (const r of decision.reservations) this.reservations.release(job.metadata.uid, r.rank);
      this.view.bump();
      throw err;
    }
    this.written.set(keyOf(job), Number(out.metadata.resourceVersion));
    const ranks = Object.entries(decision.placed)
      .map(([c, r]) => `${c}: ${r.join(',')}`)
      .join('; ');
    // Rate-limited by the recorder at high rates; the Scheduled condition still says where the job went.
    this.recorder.record(out, 'Scheduled', `placed ${placedSummary(decision.placed)} (ranks ${ranks}); candidates best first: ${decision.ranking.join(', ')}`, { source: 'scheduler' });
  }

  private nowIso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
