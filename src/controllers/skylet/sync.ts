/**
 * A skylet's job sync: manager.tasks() -> taskStatus/jobIds (and the snapshot
 * time, tasksObservedAt) of this cluster, merged into each job with
 * optimistic-concurrency retries. Work for jobs that no longer exist, or for
 * ranks no longer placed here (evicted), is cancelled, so a recovered cluster
 * never duplicates a replica moved elsewhere. restartPolicy OnFailure
 * restarts FAILED ranks (up to MAX_RESTARTS times each, then the job FAILS),
 * Always also COMPLETED ones, without limit: cancel that rank, submit it
 * again, count it in status.restarts. A restart happens at the next sync, so
 * a crash-looping replica restarts at most once per heartbeat.
 */
import { finishStatus, hasStarted, isTerminal, placementsOf, shouldRestart, type Job } from '../../api/index.js';
import type { JobRef, JobTasks, TaskDetail } from '../../managers/index.js';
import { errText, evictReplicas, jobProblem, mutateStatus, safeErrorText } from '../runtime/index.js';
import { forEachLimit } from '../../lib/index.js';
import { FOLLOW_WINDOW_MS, RESUBMIT_MS, SYNC_CONCURRENCY, keyOf, sortKeys } from './parts.js';
import type { SkyletState } from './state.js';

export class Sync {
  /** ACTIVE jobs with ranks placed here, from informer events: a sync never walks the whole job cache. */
  readonly placedHere = new Map<string, Job>();
  /** job uid -> (job resourceVersion + the manager's task states) last synced: unchanged on both sides means nothing to do. */
  private readonly syncedState = new Map<string, string>();
  /** uid#rank of replicas the last task list showed started: a rank missing here was not started before. */
  private startedRanks = new Set<string>();

  constructor(
    private readonly s: SkyletState,
    /** Asks the flow to look at a job again (a placed rank that has not started). */
    private readonly resubmit: (key: string) => void,
  ) {}

  /** Keeps placedHere current; true when the job has ranks placed here. */
  track(job: Job): boolean {
    const here = (placementsOf(job)[this.s.name]?.length ?? 0) > 0;
    // An invalid job is never synced or submitted; the scheduler marks it FAILED, then its work here is cancelled.
    if (here && job.status?.phase === 'ACTIVE' && jobProblem(job) === undefined) this.placedHere.set(keyOf(job), job);
    else this.untrack(job);
    return here;
  }

  untrack(job: Job): void {
    this.placedHere.delete(keyOf(job));
    if (job.metadata.uid) this.syncedState.delete(job.metadata.uid);
  }

  async sync(signal: AbortSignal): Promise<void> {
    const { s } = this;
    if (!s.manager || !s.deps.jobs.isSynced || !s.mayReport) return;
    const observedAt = s.deps.clock.now();
    const tasks = await s.manager.tasks(signal);
    // After the call: a replica reported started was started by now, so a heartbeat taken later shows its usage.
    const seenAt = s.deps.clock.now();
    const byUid = new Map(tasks.map((jt) => [jt.uid, jt]));
    for (const jt of tasks) {
      // One job whose sweep throws (a broken object, a cancel the manager refuses) must not stop the others'.
      try {
        await this.sweep(jt);
      } catch (err) {
        if (signal.aborted) throw err;
        s.deps.logger.warn({ cluster: s.name, job: `${jt.namespace}/${jt.name}`, err: safeErrorText(err, s.deps.jobByUid(jt.uid)) }, 'task sweep failed');
      }
      if (!s.deps.jobByUid(jt.uid)) byUid.delete(jt.uid);
    }
    // The scheduler frees what it held for newly started replicas on a heartbeat taken after seenAt: do not wait a full period.
    if (this.noteStarted(tasks, seenAt)) s.heartbeatTrigger.kick();
    s.lastTasks = byUid;
    const wasSynced = s.synced;
    s.synced = true;
    // Submits that waited for the first sync go out now.
    if (!wasSynced) for (const key of this.placedHere.keys()) this.resubmit(key);
    let waiting = false;
    for (const [k, at] of s.submitted) {
      if (observedAt - at > RESUBMIT_MS) s.submitted.delete(k);
      else if (observedAt - at < FOLLOW_WINDOW_MS && !waiting) waiting = !startedIn(byUid, k);
    }
    await this.syncPlaced(byUid, seenAt, signal);
    if (waiting && !signal.aborted) s.followUp();
    else if (!waiting) s.followUpDone();
  }

  /** Records the replicas this task list shows started; true when one was not started in the previous list. */
  private noteStarted(tasks: readonly JobTasks[], seenAt: number): boolean {
    const now = new Set<string>();
    let fresh = false;
    for (const jt of tasks) {
      for (const [task, state] of Object.entries(jt.tasks)) {
        const rank = jt.ranks[task];
        if (rank === undefined || !hasStarted(state)) continue;
        const k = `${jt.uid}#${rank}`;
        now.add(k);
        if (!this.startedRanks.has(k)) fresh = true;
      }
    }
    this.startedRanks = now;
    if (fresh) this.s.newestStartSeenAt = seenAt;
    return fresh;
  }

  /** One manager-side job: cancel what must not run. */
  private async sweep(jt: JobTasks): Promise<void> {
    const ref: JobRef = { uid: jt.uid, namespace: jt.namespace, name: jt.name };
    const job = this.s.deps.jobByUid(jt.uid);
    if (!job) {
      // The job was deleted (maybe while we were down): its work must not linger.
      await this.cancel(ref, undefined, 'job no longer exists');
      return;
    }
    const placed = new Set(placementsOf(job)[this.s.name] ?? []);
    const extra = Object.values(jt.ranks).filter((r) => !placed.has(r));
    if (extra.length > 0 && !isTerminal(job.status?.phase)) await this.cancel(ref, extra, 'replicas no longer placed here (evicted)');
    if (job.status?.phase === 'FAILED') {
      const live = Object.entries(jt.tasks)
        .filter(([, st]) => st === 'RUNNING' || st === 'PENDING')
        .map(([t]) => jt.ranks[t])
        .filter((r): r is number => r !== undefined);
      if (live.length > 0) await this.cancel(ref, live, 'job FAILED');
    }
  }

  /** Writes of different jobs are independent: several in flight, so 250 jobs on one cluster do not take 250 round trips. */
  private async syncPlaced(byUid: Map<string, JobTasks>, seenAt: number, signal: AbortSignal): Promise<void> {
    await forEachLimit(
      [...this.placedHere.values()],
      SYNC_CONCURRENCY,
      async (job) => {
        const ranks = placementsOf(job)[this.s.name];
        if (!ranks || ranks.length === 0 || job.status?.phase !== 'ACTIVE' || !job.metadata.uid) return;
        try {
          await this.syncJob(job, ranks, byUid.get(job.metadata.uid), seenAt, signal);
        } catch (err) {
          if (signal.aborted) return;
          this.s.deps.logger.warn({ cluster: this.s.name, job: job.metadata.name, err: safeErrorText(err, job) }, 'job sync failed');
        }
      },
      signal,
    );
  }

  private async syncJob(job: Job, ranks: number[], jt: JobTasks | undefined, seenAt: number, signal: AbortSignal): Promise<void> {
    const uid = job.metadata.uid as string;
    // A sync runs after every submit; re-deriving hundreds of unchanged jobs each time would cost O(jobs) per submit.
    let fp = `${job.metadata.resourceVersion ?? ''}|${jt?.jobId ?? ''}`;
    for (const [t, st] of Object.entries(jt?.tasks ?? {})) fp += `|${t}=${st}${detailKey(jt?.details?.[t])}`;
    if (this.syncedState.get(uid) === fp) return;
    this.syncedState.set(uid, fp);
    try {
      await this.syncJobChanged(job, ranks, jt, seenAt, signal);
    } catch (err) {
      this.syncedState.delete(uid);
      throw err;
    }
  }

  private async syncJobChanged(job: Job, ranks: number[], jt: JobTasks | undefined, seenAt: number, signal: AbortSignal): Promise<void> {
    const { s } = this;
    const uid = job.metadata.uid as string;
    const placed = new Set(ranks);
    const taskStatus: Record<string, string> = {};
    const stateOf = new Map<number, string>();
    for (const [task, state] of Object.entries(jt?.tasks ?? {})) {
      const r = jt?.ranks[task];
      if (r === undefined || !placed.has(r)) continue;
      taskStatus[task] = state;
      stateOf.set(r, state);
    }
    // The cluster itself dropped these replicas (Kubernetes evicted or someone deleted their pods): place them again.
    const evicted = ranks.filter((r) => stateOf.get(r) === 'EVICTED');
    if (evicted.length > 0) {
      const task = (r: number) => Object.keys(taskStatus).find((t) => jt?.ranks[t] === r) ?? String(r);
      await evictReplicas(s.deps, job, s.name, evicted, `${evicted.map(task).join(', ')} evicted by cluster '${s.name}'`, s.source, signal);
      return;
    }
    if (ranks.some((r) => !hasStarted(stateOf.get(r)))) this.resubmit(keyOf(job));
    const restart = await this.restart(job, ranks, stateOf, taskStatus, jt);

    const old = job.status?.taskStatus?.[s.name] ?? {};
    const jobId = jt?.jobId;
    const details = detailsOf(jt, taskStatus);
    const sameTasks = JSON.stringify(sortKeys(old)) === JSON.stringify(sortKeys(taskStatus)) && sameDetails(job.status?.taskDetails?.[s.name] ?? {}, details);
    const sameId = jobId === undefined || job.status?.jobIds?.[s.name] === jobId;
    if (sameTasks && sameId && restart.length === 0) {
      // Nothing new from the manager, but the phase rule may still have to fire (e.g. after a restart of ours).
      // finishStatus only replaces status.replicaStatus/phase, so a shallow copy is enough (a deep clone of
      // every unchanged job after each sync was a visible share of the skylets' CPU).
      const probe: Job = { ...job, status: { ...job.status } };
      finishStatus(probe);
      if (probe.status.phase === job.status.phase) return;
    }
    const newlyRunning = Object.entries(taskStatus)
      .filter(([t, st]) => st === 'RUNNING' && old[t] !== 'RUNNING')
      .map(([t]) => t);
    const out = await s.deps.syncSlots(() =>
      mutateStatus(
        s.deps.client,
        'jobs',
        // The slot may have taken a while: start from the newest copy we have, not a sure Conflict.
        this.newest(job),
        (j) => {
          if (j.metadata.uid !== uid || j.status.phase !== 'ACTIVE') return false;
          // Merge only this cluster's share, and only for ranks still placed here in the fresh copy.
          const freshPlaced = new Set(j.status.placements?.[s.name] ?? []);
          const mine: Record<string, string> = {};
          for (const [t, st] of Object.entries(taskStatus)) {
            const r = jt?.ranks[t];
            if (r !== undefined && freshPlaced.has(r)) mine[t] = st;
          }
          j.status.taskStatus = { ...(j.status.taskStatus ?? {}), [s.name]: mine };
          const mineDetails = Object.fromEntries(Object.entries(details).filter(([t]) => t in mine));
          if (Object.keys(mineDetails).length > 0 || j.status.taskDetails?.[s.name])
            j.status.taskDetails = { ...(j.status.taskDetails ?? {}), [s.name]: mineDetails };
          // When that task list was taken: the scheduler frees what it held for a started replica on a later heartbeat.
          j.status.tasksObservedAt = { ...(j.status.tasksObservedAt ?? {}), [s.name]: new Date(seenAt).toISOString() };
          if (jobId !== undefined) j.status.jobIds = { ...(j.status.jobIds ?? {}), [s.name]: jobId };
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
    if (out) this.recordOutcome(job, out, newlyRunning, taskStatus);
  }

  /** restartPolicy: cancel and submit again the ranks it restarts; returns them (their tasks shown PENDING again). */
  private async restart(
    job: Job,
    ranks: number[],
    stateOf: Map<number, string>,
    taskStatus: Record<string, string>,
    jt: JobTasks | undefined,
  ): Promise<number[]> {
    const { s } = this;
    const restart = ranks.filter((r) => shouldRestart(job, r, stateOf.get(r)));
    if (restart.length === 0 || !s.manager) return [];
    const uid = job.metadata.uid as string;
    await s.manager.cancel({ uid, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name }, restart);
    s.forgetSubmitted(uid, restart);
    await s.manager.submit(job, { ranks: restart });
    for (const r of restart) {
      s.submitted.set(`${uid}#${r}`, s.deps.clock.now());
      const task = Object.keys(taskStatus).find((t) => jt?.ranks[t] === r);
      if (task) taskStatus[task] = 'PENDING';
    }
    s.deps.events.record(
      job,
      'Restarted',
      `restarted replicas ${restart.join(',')} on cluster '${s.name}' (restartPolicy ${job.spec.restartPolicy ?? 'Never'})`,
      { source: s.source },
    );
    return restart;
  }

  private recordOutcome(before: Job, out: Job, newlyRunning: string[], taskStatus: Record<string, string>): void {
    const { s } = this;
    const source = s.source;
    if (newlyRunning.length > 0) s.deps.events.record(out, 'Started', `${newlyRunning.join(', ')} running on cluster '${s.name}'`, { source });
    if (out.status.phase === 'COMPLETED' && before.status.phase !== 'COMPLETED') {
      s.deps.events.record(out, 'Completed', `all ${out.spec.replicas} replicas completed`, { source });
    } else if (out.status.phase === 'FAILED' && before.status.phase !== 'FAILED') {
      const failed = Object.entries(taskStatus)
        .filter(([, st]) => st === 'FAILED')
        .map(([t]) => t);
      s.deps.events.record(out, 'Failed', `${failed.join(', ') || 'a replica'} failed on cluster '${s.name}' (restartPolicy Never)`, { source });
    }
  }

  /** The informer's copy of `job` when it is the same job and not older. */
  private newest(job: Job): Job {
    const cached = this.s.deps.jobs.get(keyOf(job));
    if (!cached || cached.metadata.uid !== job.metadata.uid) return job;
    return Number(cached.metadata.resourceVersion) >= Number(job.metadata.resourceVersion) ? cached : job;
  }

  async cancel(ref: JobRef, ranks: number[] | undefined, why: string): Promise<void> {
    const { s } = this;
    if (!s.manager) return;
    s.deps.logger.info({ cluster: s.name, job: `${ref.namespace}/${ref.name}`, uid: ref.uid, ranks, why }, 'cancelling work');
    await s.manager.cancel(ref, ranks);
    s.forgetSubmitted(ref.uid, ranks);
  }

  /** Cancel on job deletion; errors are logged (the periodic sweep catches what this misses). */
  cancelDeleted(ref: JobRef): void {
    this.s.manager?.cancel(ref).catch((err: unknown) => this.s.deps.logger.warn({ cluster: this.s.name, job: ref.name, err: errText(err) }, 'cancel failed'));
    this.s.forgetSubmitted(ref.uid);
  }
}

/** Whether the rank of a `uid#rank` submitted key has started on the manager. */
function startedIn(byUid: Map<string, JobTasks>, key: string): boolean {
  const i = key.lastIndexOf('#');
  const jt = byUid.get(key.slice(0, i));
  const rank = Number(key.slice(i + 1));
  for (const [task, state] of Object.entries(jt?.tasks ?? {})) {
    if (jt?.ranks[task] === rank) return hasStarted(state);
  }
  return false;
}

const detailKey = (d: TaskDetail | undefined): string => (d ? `:${d.exitCode ?? ''}:${d.startedAt ?? ''}:${d.finishedAt ?? ''}` : '');

function sameDetails(a: Record<string, TaskDetail>, b: Record<string, TaskDetail>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((t) => detailKey(a[t]) === detailKey(b[t]));
}

/** The manager's exit codes and times of the tasks shown in `taskStatus` (fields in a fixed order, so comparisons are stable). */
function detailsOf(jt: JobTasks | undefined, taskStatus: Record<string, string>): Record<string, TaskDetail> {
  const out: Record<string, TaskDetail> = {};
  for (const t of Object.keys(taskStatus)) {
    const d = jt?.details?.[t];
    if (!d) continue;
    const one: TaskDetail = {};
    if (d.exitCode !== undefined) one.exitCode = d.exitCode;
    if (d.startedAt !== undefined) one.startedAt = d.startedAt;
    if (d.finishedAt !== undefined) one.finishedAt = d.finishedAt;
    if (Object.keys(one).length > 0) out[t] = one;
  }
  return out;
}
