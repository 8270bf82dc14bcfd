/**
 * One Skylet per cluster (DESIGN 6): heartbeat, flow and job sync.
 *
 * - heartbeat: manager.status() every heartbeatSeconds; READY on success,
 *   ERROR after `errorThreshold` consecutive failures (at once for a manager
 *   that cannot even be built). The status is written only when it changed,
 *   when reservations wait for a fresh heartbeat, or every keepalive period.
 *   After evictionGraceSeconds of ERROR the unfinished replicas placed here
 *   are EVICTED so the scheduler moves them.
 * - flow: for each ACTIVE job placed here, submit the ranks the manager does
 *   not have yet. manager.submit is idempotent by uid + rank, so a restart
 *   that resubmits finds the existing work.
 * - job sync: manager.tasks() -> taskStatus/jobIds of this cluster, merged
 *   into the job with optimistic-concurrency retries. Work for jobs that no
 *   longer exist, or for ranks no longer placed here (evicted), is cancelled —
 *   so a recovered cluster never duplicates a replica moved elsewhere.
 *   restartPolicy OnFailure restarts FAILED ranks (up to MAX_RESTARTS times
 *   each, then the job FAILS), Always also COMPLETED ones, without limit:
 *   cancel that rank, submit it again, count it in status.restarts. A restart
 *   happens at the next sync, so a crash-looping replica restarts at most once
 *   per heartbeat.
 */
import type { SkyShiftClient } from '../../client/index.js';
import type { ClusterManager, JobTasks } from '../../managers/index.js';
import type { EventRecorder } from '../events.js';
import { errText } from '../events.js';
import type { SharedInformers } from '../informers.js';
import { finishStatus, isTerminal, placementsOf, shouldRestart, unfinishedPlacements } from '../job-status.js';
import { WorkQueue, forEachLimit, sleep, type TimerHandle } from '../runtime/index.js';
import type { Reservations } from '../scheduler/index.js';
import { mutateStatus } from '../status-writer.js';
import { Trigger } from '../trigger.js';
import type { ClusterObj, ClusterStatusView, ControllerDeps, JobObj } from '../types.js';
import { WriteSlots } from '../write-slots.js';
import { cancelFailedJob, liveRanks } from './failed-job.js';
import { boundedSubmit } from './bounded-submit.js';
import { FOLLOW_MIN_MS, FOLLOW_WINDOW_MS, MIN_HEARTBEAT_GAP_MS, RESUBMIT_MS, SYNC_CONCURRENCY, keyOf, sortKeys, writeHeartbeat } from './parts.js';
import { safeErrorText } from '../poison.js';
import { jobProblem } from '../sanity.js';

export interface SkyletDeps extends ControllerDeps {
  client: SkyShiftClient;
  informers: SharedInformers;
  reservations: Reservations;
  recorder: EventRecorder;
  /** Removes ranks from the job's placement on a cluster (scheduler-owned, so the ledger stays consistent). */
  evict: (job: JobObj, cluster: string, ranks: number[], message: string, signal: AbortSignal) => Promise<void>;
  /** Job-sync status writes in flight across all skylets (default: SYNC_CONCURRENCY per skylet). */
  syncSlots?: WriteSlots;
}

type Phase = 'INIT' | 'READY' | 'ERROR';

export class Skylet {
  readonly name: string;
  private phase: Phase;
  private failures = 0;
  private errorSince: number | undefined;
  private lastWriteAt = 0;
  private lastFingerprint = '';
  private lastTasks = new Map<string, JobTasks>();
  private synced = false;
  /** uid#rank -> when this process last submitted it; a rank still not started after RESUBMIT_MS is submitted again. */
  private readonly submitted = new Map<string, number>();
  /** Wakes the heartbeat loop. */
  private readonly trigger = new Trigger();
  /** Wakes the job sync loop (after a submit, so new tasks show up at once rather than at the next heartbeat). */
  private readonly syncTrigger = new Trigger();
  private readonly flow: WorkQueue<string>;
  /** ACTIVE jobs with ranks placed here, from informer events: a sync never walks the whole job cache. */
  private readonly placedHere = new Map<string, JobObj>();
  /** job uid -> (job resourceVersion + the manager's task states) last synced: unchanged on both sides means nothing to do. */
  private readonly syncedState = new Map<string, string>();
  private followDelay = FOLLOW_MIN_MS;
  private followTimer: TimerHandle | undefined;
  private readonly syncSlots: WriteSlots;

  constructor(
    cluster: ClusterObj,
    private readonly manager: ClusterManager | undefined,
    /** Why the manager could not be built (bad config): the cluster is ERROR at once. */
    private readonly buildError: string | undefined,
    private readonly deps: SkyletDeps,
  ) {
    this.name = cluster.metadata.name;
    this.syncSlots = deps.syncSlots ?? new WriteSlots(SYNC_CONCURRENCY);
    const p = cluster.status?.phase;
    this.phase = p === 'READY' || p === 'ERROR' ? p : 'INIT';
    // A cluster found in ERROR at startup has been failing for at least as long as we know of.
    if (this.phase === 'ERROR') this.errorSince = deps.clock.now();
    this.flow = new WorkQueue<string>({
      clock: deps.clock,
      baseMs: deps.options.submitRetryBaseMs ?? 500,
      maxMs: 30_000,
      // Name and a scrubbed message only: a manager's error may quote the job's env.
      onError: (key, err) => deps.logger.warn({ cluster: this.name, job: key, err: safeErrorText(err, deps.informers.jobs.get(String(key))) }, 'submit failed; retrying'),
    });
    for (const job of deps.informers.jobs.list()) this.track(job);
  }

  /** A job changed: submit its share here if it has one. */
  jobChanged(job: JobObj): void {
    if (!this.track(job)) return;
    const phase = job.status?.phase;
    // FAILED: its replicas still running here are cancelled at once (flow), not at the next sync.
    if (phase === 'ACTIVE' || (phase === 'FAILED' && liveRanks(job, this.name).length > 0)) this.flow.add(keyOf(job));
  }

  /** Keeps placedHere current; true when the job has ranks placed here. */
  private track(job: JobObj): boolean {
    const here = (placementsOf(job)[this.name]?.length ?? 0) > 0;
    // An invalid job is never synced or submitted; the scheduler marks it FAILED, then its work here is cancelled.
    if (here && job.status?.phase === 'ACTIVE' && jobProblem(job) === undefined) this.placedHere.set(keyOf(job), job);
    else {
      this.placedHere.delete(keyOf(job));
      if (job.metadata.uid) this.syncedState.delete(job.metadata.uid);
    }
    return here;
  }

  /** A job is gone: cancel its work here (the periodic sweep catches what this misses). */
  jobDeleted(job: JobObj): void {
    this.placedHere.delete(keyOf(job));
    if (job.metadata.uid) this.syncedState.delete(job.metadata.uid);
    if (!this.manager || !job.metadata.uid) return;
    const ref = { uid: job.metadata.uid, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
    this.manager.cancel(ref).catch((err: unknown) => this.deps.logger.warn({ cluster: this.name, job: ref.name, err: errText(err) }, 'cancel failed'));
    for (const k of [...this.submitted.keys()]) if (k.startsWith(`${ref.uid}#`)) this.submitted.delete(k);
  }

  /** Heartbeat and job sync run as two loops: a slow heartbeat write never delays noticing a started replica. */
  async run(signal: AbortSignal): Promise<void> {
    const flowDone = this.flow.run(4, (key, s) => boundedSubmit({ cluster: this.name, deps: this.deps, failuresOf: (k) => this.flow.numRequeues(k) }, key, s, () => this.submitJob(key, s)), signal);
    const syncDone = this.syncLoop(signal);
    const periodMs = this.deps.options.heartbeatSeconds * 1000;
    while (!signal.aborted) {
      const startedAt = this.deps.clock.now();
      try {
        await this.heartbeat(signal);
        if (this.phase === 'ERROR') await this.evictIfDead(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.deps.logger.warn({ cluster: this.name, err: errText(err) }, 'skylet heartbeat failed');
      }
      if (this.phase === 'READY' && !this.synced) this.syncTrigger.kick();
      const kicked = await this.trigger.wait(this.deps.clock, periodMs, signal);
      // Kicks (submits) come in bursts: at most one extra heartbeat per MIN_HEARTBEAT_GAP_MS.
      const gap = MIN_HEARTBEAT_GAP_MS - (this.deps.clock.now() - startedAt);
      if (kicked && gap > 0 && !signal.aborted) await sleep(this.deps.clock, Math.min(gap, periodMs), signal);
    }
    if (this.followTimer) this.deps.clock.clearTimeout(this.followTimer);
    this.flow.shutdown();
    await Promise.all([flowDone, syncDone]);
  }

  private async syncLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.phase === 'READY') await this.sync(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.deps.logger.warn({ cluster: this.name, err: errText(err) }, 'job sync failed');
      }
      await this.syncTrigger.wait(this.deps.clock, this.deps.options.heartbeatSeconds * 1000, signal);
    }
  }

  /** Poll the manager again soon (50 ms, doubling up to a heartbeat) while replicas we submitted have not started. */
  private followUp(): void {
    if (this.followTimer) return;
    const delay = this.followDelay;
    this.followDelay = Math.min(this.followDelay * 2, this.deps.options.heartbeatSeconds * 1000);
    this.followTimer = this.deps.clock.setTimeout(() => {
      this.followTimer = undefined;
      this.syncTrigger.kick();
    }, delay);
  }

  /** One heartbeat and, when READY, one job sync (tests). */
  async tick(signal: AbortSignal): Promise<void> {
    await this.heartbeat(signal);
    if (this.phase === 'READY') await this.sync(signal);
    else if (this.phase === 'ERROR') await this.evictIfDead(signal);
  }

  // --- heartbeat ---

  private async heartbeat(signal: AbortSignal): Promise<void> {
    const observedAt = this.deps.clock.now();
    let state: Awaited<ReturnType<ClusterManager['status']>> | undefined;
    let problem = this.buildError;
    if (this.manager && problem === undefined) {
      try {
        state = await this.manager.status(signal);
        if (state.phase !== 'READY') problem = state.message ?? 'cluster manager reports ERROR';
      } catch (err) {
        if (signal.aborted) return;
        problem = errText(err);
      }
    }
    const before = this.phase;
    if (problem === undefined) {
      this.failures = 0;
      this.phase = 'READY';
      this.errorSince = undefined;
    } else {
      this.failures++;
      if (this.buildError !== undefined || this.failures >= this.deps.options.errorThreshold) {
        if (this.phase !== 'ERROR') this.errorSince = observedAt;
        this.phase = 'ERROR';
      } else {
        // Below the threshold a failure changes nothing: one slow answer is not a dead cluster.
        return;
      }
    }
    const current = this.deps.informers.clusters.get(this.name);
    if (!current) return;
    const message = problem ?? state?.message;
    const status: ClusterStatusView = {
      phase: this.phase,
      ...(message !== undefined ? { message } : {}),
      capacity: state?.capacity ?? current.status?.capacity ?? {},
      allocatable: state?.allocatable ?? current.status?.allocatable ?? {},
    };
    // Kept from the last answer while the manager is unreachable: the runtime does not change because Slurm is down.
    const runtime = state?.runtime ?? current.status?.runtime;
    if (runtime !== undefined) status.runtime = runtime;
    const fingerprint = JSON.stringify(status);
    // Reservations of replicas job sync has seen started are released by this snapshot's write; others must wait.
    const reservationsWaiting = this.deps.reservations.confirmable(this.name, observedAt);
    const stale = observedAt - this.lastWriteAt >= this.deps.options.statusKeepaliveSeconds * 1000;
    if (fingerprint === this.lastFingerprint && !reservationsWaiting && !stale && current.status?.phase === this.phase) return;
    const out = await writeHeartbeat(this.deps.client, current, status, this.phase === 'READY', message, new Date(observedAt).toISOString(), signal);
    this.lastWriteAt = observedAt;
    this.lastFingerprint = fingerprint;
    if (out && before !== this.phase) {
      if (this.phase === 'READY') this.deps.recorder.record(out, 'ClusterReady', `cluster '${this.name}' is READY`, { source: `skylet/${this.name}` });
      else this.deps.recorder.record(out, 'ClusterError', `cluster '${this.name}' is ERROR: ${message ?? ''}`, { source: `skylet/${this.name}` });
      this.deps.logger.info({ cluster: this.name, phase: this.phase, message }, 'cluster phase changed');
    }
  }

  private async evictIfDead(signal: AbortSignal): Promise<void> {
    if (this.errorSince === undefined) return;
    const graceMs = this.deps.options.evictionGraceSeconds * 1000;
    if (this.deps.clock.now() - this.errorSince < graceMs) return;
    await this.evictAll(`cluster '${this.name}' has been ERROR for more than ${this.deps.options.evictionGraceSeconds} s`, signal);
  }

  /** Every unfinished replica placed here is EVICTED (and so placed again elsewhere). */
  async evictAll(message: string, signal: AbortSignal): Promise<void> {
    for (const job of this.deps.informers.jobs.list()) {
      if (job.status?.phase !== 'ACTIVE') continue;
      const ranks = unfinishedPlacements(job)[this.name];
      if (!ranks || ranks.length === 0) continue;
      await this.deps.evict(job, this.name, ranks, `replicas ${ranks.join(',')} evicted: ${message}`, signal);
    }
  }

  /** Cancel everything this manager runs for SkyShift (cluster deleted). */
  async cancelAll(): Promise<void> {
    if (!this.manager) return;
    for (const jt of await this.manager.tasks()) {
      await this.manager.cancel({ uid: jt.uid, namespace: jt.namespace, name: jt.name });
    }
  }

  // --- flow ---

  private async submitJob(key: string, signal: AbortSignal): Promise<{ requeueAfterMs?: number } | void> {
    const job = this.deps.informers.jobs.get(key);
    if (job?.status?.phase === 'FAILED' && this.manager) {
      const cancelled = await cancelFailedJob(this.deps, this.manager, this.name, job, signal);
      if (cancelled.length > 0 && job.metadata.uid) this.forgetSubmitted(job.metadata.uid, cancelled);
      return;
    }
    if (!job || job.status?.phase !== 'ACTIVE' || !job.metadata.uid || !this.manager || jobProblem(job) !== undefined) return;
    const ranks = placementsOf(job)[this.name] ?? [];
    // Until the first sync we do not know what the manager already has; submit is idempotent, but waiting keeps events honest.
    if (!this.synced || this.phase !== 'READY') return { requeueAfterMs: this.deps.options.heartbeatSeconds * 1000 };
    const have = this.lastTasks.get(job.metadata.uid);
    // Ranks the manager has past PENDING need nothing. PENDING ones are submitted again now and then:
    // submit is idempotent, and it lets a manager complete a start that a crash interrupted.
    const started = new Set<number>();
    for (const [task, state] of Object.entries(have?.tasks ?? {})) {
      const r = have?.ranks[task];
      if (r !== undefined && state !== 'PENDING' && state !== 'INIT') started.add(r);
    }
    const now = this.deps.clock.now();
    const recent = (r: number) => now - (this.submitted.get(`${job.metadata.uid}#${r}`) ?? -Infinity) < RESUBMIT_MS;
    const notStarted = ranks.filter((r) => !started.has(r));
    const todo = notStarted.filter((r) => !recent(r));
    // Nothing may change the job while a replica waits to start (e.g. a start lost to a crash, which the manager
    // completes only on a later submit), so look again after RESUBMIT_MS instead of waiting for an event.
    const lookAgain = notStarted.length > 0 ? { requeueAfterMs: RESUBMIT_MS } : undefined;
    if (todo.length === 0) return lookAgain;
    signal.throwIfAborted();
    const jobId = await this.manager.submit(job as never, { ranks: todo });
    this.deps.reservations.markSubmitted(job.metadata.uid, this.name, this.deps.clock.now());
    const fresh = todo.filter((r) => !this.submitted.has(`${job.metadata.uid}#${r}`));
    for (const r of todo) this.submitted.set(`${job.metadata.uid}#${r}`, now);
    if (fresh.length > 0) this.deps.recorder.record(job, 'Submitted', `submitted replicas ${fresh.join(',')} to cluster '${this.name}' (${jobId})`, { source: `skylet/${this.name}` });
    // Pick up the new tasks at once (and poll shortly after) rather than at the next heartbeat: once job sync
    // sees them started, the heartbeat after that confirms the scheduler's reservations. A follow-up timer armed
    // for an earlier submit may be up to a heartbeat away: it is re-armed short, or this replica would wait
    // for it (the local create-to-RUNNING p99 was one heartbeat for exactly that reason).
    this.followDelay = FOLLOW_MIN_MS;
    if (this.followTimer) {
      this.deps.clock.clearTimeout(this.followTimer);
      this.followTimer = undefined;
    }
    this.syncTrigger.kick();
    this.trigger.kick();
    return lookAgain;
  }

  // --- job sync ---

  private async sync(signal: AbortSignal): Promise<void> {
    if (!this.manager || !this.deps.informers.jobs.isSynced) return;
    const observedAt = this.deps.clock.now();
    const tasks = await this.manager.tasks(signal);
    // After the call: a replica reported started was started by now, so a heartbeat taken later shows its usage.
    const seenAt = this.deps.clock.now();
    let newlyStarted = false;
    const byUid = new Map(tasks.map((jt) => [jt.uid, jt]));
    for (const jt of tasks) {
      // One job whose sweep throws (a broken object, a cancel the manager refuses) must not stop the others'.
      try {
        if (await this.sweep(jt, seenAt)) newlyStarted = true;
      } catch (err) {
        if (signal.aborted) throw err;
        this.deps.logger.warn({ cluster: this.name, job: `${jt.namespace}/${jt.name}`, err: safeErrorText(err, this.deps.informers.jobByUid(jt.uid)) }, 'task sweep failed');
      }
      if (!this.deps.informers.jobByUid(jt.uid)) byUid.delete(jt.uid);
    }
    // The next heartbeat releases their reservations (and shows the room they took): do not wait a full period.
    if (newlyStarted) this.trigger.kick();
    this.lastTasks = byUid;
    const wasSynced = this.synced;
    this.synced = true;
    // Submits that waited for the first sync go out now.
    if (!wasSynced) for (const key of this.placedHere.keys()) this.flow.add(key);
    let waiting = false;
    for (const [k, at] of this.submitted) {
      if (observedAt - at > RESUBMIT_MS) this.submitted.delete(k);
      else if (observedAt - at < FOLLOW_WINDOW_MS && !waiting) waiting = !this.started(byUid, k);
    }
    await this.syncPlaced(byUid, signal);
    if (waiting && !signal.aborted) this.followUp();
    else if (!waiting) this.followDelay = FOLLOW_MIN_MS;
  }

  /** One manager-side job: cancel what must not run, note sightings. True when a replica was first seen started. */
  private async sweep(jt: JobTasks, seenAt: number): Promise<boolean> {
    let newlyStarted = false;
    const ref = { uid: jt.uid, namespace: jt.namespace, name: jt.name };
    const job = this.deps.informers.jobByUid(jt.uid);
    if (!job) {
      // The job was deleted (maybe while we were down): its work must not linger.
      await this.cancel(ref, undefined, 'job no longer exists');
      return false;
    }
    const placed = new Set(placementsOf(job)[this.name] ?? []);
    const extra = Object.values(jt.ranks).filter((r) => !placed.has(r));
    if (extra.length > 0 && !isTerminal(job.status?.phase)) await this.cancel(ref, extra, 'replicas no longer placed here (evicted)');
    if (job.status?.phase === 'FAILED') {
      const live = Object.entries(jt.tasks)
        .filter(([, s]) => s === 'RUNNING' || s === 'PENDING')
        .map(([t]) => jt.ranks[t])
        .filter((r): r is number => r !== undefined);
      if (live.length > 0) await this.cancel(ref, live, 'job FAILED');
    }
    for (const [task, state] of Object.entries(jt.tasks)) {
      const rank = jt.ranks[task];
      if (rank === undefined) continue;
      if (this.deps.reservations.markSeen(jt.uid, this.name, rank, seenAt, state !== 'PENDING' && state !== 'INIT')) newlyStarted = true;
    }
    return newlyStarted;
  }

  /** Writes of different jobs are independent: several in flight, so 250 jobs on one cluster do not take 250 round trips. */
  private async syncPlaced(byUid: Map<string, JobTasks>, signal: AbortSignal): Promise<void> {
    await forEachLimit(
      [...this.placedHere.values()],
      SYNC_CONCURRENCY,
      async (job) => {
        const ranks = placementsOf(job)[this.name];
        if (!ranks || ranks.length === 0 || job.status?.phase !== 'ACTIVE' || !job.metadata.uid) return;
        try {
          await this.syncJob(job, ranks, byUid.get(job.metadata.uid), signal);
        } catch (err) {
          if (signal.aborted) return;
          this.deps.logger.warn({ cluster: this.name, job: job.metadata.name, err: safeErrorText(err, job) }, 'job sync failed');
        }
      },
      signal,
    );
  }

  /** Whether the rank of a `uid#rank` submitted key has started on the manager. */
  private started(byUid: Map<string, JobTasks>, key: string): boolean {
    const i = key.lastIndexOf('#');
    const jt = byUid.get(key.slice(0, i));
    const rank = Number(key.slice(i + 1));
    for (const [task, state] of Object.entries(jt?.tasks ?? {})) {
      if (jt?.ranks[task] === rank) return state !== 'PENDING' && state !== 'INIT';
    }
    return false;
  }

  private forgetSubmitted(uid: string, ranks: number[]): void {
    for (const r of ranks) this.submitted.delete(`${uid}#${r}`);
  }

  private async syncJob(job: JobObj, ranks: number[], jt: JobTasks | undefined, signal: AbortSignal): Promise<void> {
    const uid = job.metadata.uid as string;
    // A sync runs after every submit; re-deriving hundreds of unchanged jobs each time would cost O(jobs) per submit.
    let fp = `${job.metadata.resourceVersion ?? ''}|${jt?.jobId ?? ''}`;
    for (const [t, st] of Object.entries(jt?.tasks ?? {})) fp += `|${t}=${st}`;
    if (this.syncedState.get(uid) === fp) return;
    this.syncedState.set(uid, fp);
    try {
      await this.syncJobChanged(job, ranks, jt, signal);
    } catch (err) {
      this.syncedState.delete(uid);
      throw err;
    }
  }

  private async syncJobChanged(job: JobObj, ranks: number[], jt: JobTasks | undefined, signal: AbortSignal): Promise<void> {
    const uid = job.metadata.uid as string;
    const ref = { uid, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
    const policy = job.spec.restartPolicy ?? 'Never';
    const placed = new Set(ranks);
    const taskStatus: Record<string, string> = {};
    const stateOf = new Map<number, string>();
    for (const [task, state] of Object.entries(jt?.tasks ?? {})) {
      const r = jt?.ranks[task];
      if (r === undefined || !placed.has(r)) continue;
      taskStatus[task] = state;
      stateOf.set(r, state);
    }
    const notStarted = (r: number) => {
      const s = stateOf.get(r);
      return s === undefined || s === 'PENDING' || s === 'INIT';
    };
    if (ranks.some(notStarted)) this.flow.add(keyOf(job));

    const restart = ranks.filter((r) => shouldRestart(job, r, stateOf.get(r)));
    if (restart.length > 0 && this.manager) {
      await this.manager.cancel(ref, restart);
      for (const r of restart) this.submitted.delete(`${uid}#${r}`);
      await this.manager.submit(job as never, { ranks: restart });
      for (const r of restart) {
        this.submitted.set(`${uid}#${r}`, this.deps.clock.now());
        const task = Object.keys(taskStatus).find((t) => jt?.ranks[t] === r);
        if (task) taskStatus[task] = 'PENDING';
      }
      this.deps.recorder.record(job, 'Restarted', `restarted replicas ${restart.join(',')} on cluster '${this.name}' (restartPolicy ${policy})`, { source: `skylet/${this.name}` });
    }

    const old = job.status?.taskStatus?.[this.name] ?? {};
    const jobId = jt?.jobId;
    const sameTasks = JSON.stringify(sortKeys(old)) === JSON.stringify(sortKeys(taskStatus));
    const sameId = jobId === undefined || job.status?.jobIds?.[this.name] === jobId;
    if (sameTasks && sameId && restart.length === 0) {
      // Nothing new from the manager, but the phase rule may still have to fire (e.g. after a restart of ours).
      // finishStatus only replaces status.replicaStatus/phase, so a shallow copy is enough (a deep clone of
      // every unchanged job after each sync was a visible share of the skylets' CPU).
      const probe: JobObj = { ...job, status: { ...job.status } };
      finishStatus(probe);
      if (probe.status.phase === job.status.phase) return;
    }
    const newlyRunning = Object.entries(taskStatus)
      .filter(([t, s]) => s === 'RUNNING' && old[t] !== 'RUNNING')
      .map(([t]) => t);
    const out = await this.syncSlots.run(() =>
      mutateStatus(
        this.deps.client,
        'jobs',
        // The slot may have taken a while: start from the newest copy we have, not a sure Conflict.
        this.newest(job),
        (j) => {
          if (j.metadata.uid !== uid || j.status.phase !== 'ACTIVE') return false;
          // Merge only this cluster's share, and only for ranks still placed here in the fresh copy.
          const freshPlaced = new Set(j.status.placements?.[this.name] ?? []);
          const mine: Record<string, string> = {};
          for (const [t, s] of Object.entries(taskStatus)) {
            const r = jt?.ranks[t];
            if (r !== undefined && freshPlaced.has(r)) mine[t] = s;
          }
          j.status.taskStatus = { ...(j.status.taskStatus ?? {}), [this.name]: mine };
          if (jobId !== undefined) j.status.jobIds = { ...(j.status.jobIds ?? {}), [this.name]: jobId };
          if (restart.length > 0) {
            const restarts = { ...(j.status.restarts ?? {}) };
            for (const r of restart) restarts[String(r)] = (restarts[String(r)] ?? 0) + 1;
            j.status.restarts = restarts;
          }
          finishStatus(j);
          return true;
        },
        { signal },
      ),
    );
    if (!out) return;
    const source = `skylet/${this.name}`;
    if (newlyRunning.length > 0) this.deps.recorder.record(out, 'Started', `${newlyRunning.join(', ')} running on cluster '${this.name}'`, { source });
    if (out.status.phase === 'COMPLETED' && job.status.phase !== 'COMPLETED') {
      this.deps.recorder.record(out, 'Completed', `all ${out.spec.replicas} replicas completed`, { source });
    } else if (out.status.phase === 'FAILED' && job.status.phase !== 'FAILED') {
      const failed = Object.entries(taskStatus)
        .filter(([, s]) => s === 'FAILED')
        .map(([t]) => t);
      this.deps.recorder.record(out, 'Failed', `${failed.join(', ') || 'a replica'} failed on cluster '${this.name}' (restartPolicy Never)`, { source });
    }
  }

  /** The informer's copy of `job` when it is the same job and not older. */
  private newest(job: JobObj): JobObj {
    const cached = this.deps.informers.jobs.get(keyOf(job));
    if (!cached || cached.metadata.uid !== job.metadata.uid) return job;
    return Number(cached.metadata.resourceVersion) >= Number(job.metadata.resourceVersion) ? cached : job;
  }

  private async cancel(ref: { uid: string; namespace: string; name: string }, ranks: number[] | undefined, why: string): Promise<void> {
    if (!this.manager) return;
    this.deps.logger.info({ cluster: this.name, job: `${ref.namespace}/${ref.name}`, uid: ref.uid, ranks, why }, 'cancelling work');
    await this.manager.cancel(ref, ranks);
    for (const k of [...this.submitted.keys()]) {
      if (!k.startsWith(`${ref.uid}#`)) continue;
      if (ranks === undefined || ranks.includes(Number(k.slice(ref.uid.length + 1)))) this.submitted.delete(k);
    }
  }
}
