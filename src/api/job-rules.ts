/**
 * Pure rules over a Job's status, shared by the scheduler, every skylet and
 * anything else that reads jobs (CLI, dashboard). No I/O, no clock.
 *
 * Status fields and who writes them:
 *  - placements {cluster: ranks}: the scheduler, BEFORE anything is submitted,
 *    so a crash after the write never places twice and a crash before it just
 *    decides again. Eviction removes ranks; unplaced ranks of an ACTIVE job
 *    are what the scheduler places again.
 *  - taskStatus {cluster: {task: state}}: the cluster's skylet, from the
 *    manager's tasks, only for ranks currently placed there; tasksObservedAt
 *    {cluster: time} says when that snapshot was taken (the scheduler frees
 *    the room it held for a started replica only on a heartbeat taken later).
 *  - replicaStatus {cluster: {STATE: n}}: derived from placements + taskStatus
 *    (a placed rank with no task yet counts PENDING); EVICTED counts are history
 *    kept per cluster.
 *  - phase: ACTIVE -> COMPLETED when every rank is placed and COMPLETED;
 *    FAILED when a rank FAILED and restartPolicy is Never (or OnFailure and
 *    it was restarted MAX_RESTARTS times already).
 */
import type { Condition } from './schema.js';
import type { Job, JobPhase, JobStatus } from './kinds/job.js';
import { rankOfTask, type ReplicaState } from './tasks.js';

export function placementsOf(job: Job): Record<string, number[]> {
  return job.status?.placements ?? {};
}

export function placedRanks(job: Job): Set<number> {
  const out = new Set<number>();
  for (const ranks of Object.values(placementsOf(job))) for (const r of ranks) out.add(r);
  return out;
}

/**
 * Bounded whatever the object says: controllers check a job's sanity before working on it, and this cap
 * turns a path that forgot to into a bounded loop instead of an allocation that aborts the process.
 */
const REPLICAS_HARD_CAP = 1_000_000;

export function replicasOf(job: Job): number {
  const n = job.spec?.replicas ?? 1;
  return Number.isInteger(n) && n >= 1 ? Math.min(n, REPLICAS_HARD_CAP) : 1;
}

/** Ranks 0..replicas-1 not placed anywhere: new jobs, or replicas that were evicted. */
export function unplacedRanks(job: Job): number[] {
  const placed = placedRanks(job);
  const out: number[] = [];
  for (let r = 0; r < replicasOf(job); r++) if (!placed.has(r)) out.push(r);
  return out;
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === 'COMPLETED' || phase === 'FAILED';
}

/** INIT/PENDING jobs, and ACTIVE jobs with replicas not placed anywhere (evicted ones). */
export function needsScheduling(job: Job): boolean {
  const phase = job.status?.phase ?? 'INIT';
  if (phase === 'INIT' || phase === 'PENDING') return true;
  return phase === 'ACTIVE' && unplacedRanks(job).length > 0;
}

/** A task past PENDING/INIT has started: every manager's allocatable accounts for it from then on. */
export function hasStarted(state: string | undefined): boolean {
  return state !== undefined && state !== 'PENDING' && state !== 'INIT';
}

/** State of one placed rank as the cluster's skylet last reported it. */
export function rankState(job: Job, cluster: string, rank: number): ReplicaState {
  const tasks = job.status?.taskStatus?.[cluster] ?? {};
  for (const [task, state] of Object.entries(tasks)) {
    if (rankOfTask(task) === rank) return state as ReplicaState;
  }
  return 'PENDING';
}

/** Epoch ms of the task snapshot `cluster`'s skylet last wrote into taskStatus; undefined when unknown. */
export function tasksObservedAt(job: Job, cluster: string): number | undefined {
  const at = Date.parse(job.status?.tasksObservedAt?.[cluster] ?? '');
  return Number.isNaN(at) ? undefined : at;
}

/** Placed ranks per cluster that have not finished (what a cluster failure or policy would evict). */
export function unfinishedPlacements(job: Job): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
    const open = ranks.filter((r) => rankState(job, cluster, r) !== 'COMPLETED');
    if (open.length > 0) out[cluster] = open;
  }
  return out;
}

/** replicaStatus derived from placements + taskStatus, keeping each cluster's EVICTED history. */
export function deriveReplicaStatus(job: Job): Record<string, Record<string, number>> {
  const old = job.status?.replicaStatus ?? {};
  const out: Record<string, Record<string, number>> = {};
  for (const [cluster, counts] of Object.entries(old)) {
    if ((counts.EVICTED ?? 0) > 0) out[cluster] = { EVICTED: counts.EVICTED ?? 0 };
  }
  for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
    const counts = (out[cluster] ??= {});
    for (const r of ranks) {
      const s = rankState(job, cluster, r);
      counts[s] = (counts[s] ?? 0) + 1;
    }
  }
  return out;
}

/**
 * restartPolicy OnFailure restarts a failed replica at most this many times
 * (Kubernetes' Job backoffLimit default); then the job FAILS. Always (services)
 * restarts without limit.
 */
export const MAX_RESTARTS = 6;

/** Restarts a failed replica gets under OnFailure: spec.backoffLimit, else MAX_RESTARTS. */
export function backoffLimitOf(job: Job): number {
  return job.spec?.backoffLimit ?? MAX_RESTARTS;
}

export function restartsOf(job: Job, rank: number): number {
  return job.status?.restarts?.[String(rank)] ?? 0;
}

/** Whether a replica in `state` is restarted rather than left as it is. */
export function shouldRestart(job: Job, rank: number, state: string | undefined): boolean {
  const policy = job.spec?.restartPolicy ?? 'Never';
  if (policy === 'Always') return state === 'FAILED' || state === 'COMPLETED';
  return policy === 'OnFailure' && state === 'FAILED' && restartsOf(job, rank) < backoffLimitOf(job);
}

/** The phase the replicas imply for a placed job; undefined: leave the phase as it is. */
export function derivePhase(job: Job): Extract<JobPhase, 'ACTIVE' | 'COMPLETED' | 'FAILED'> | undefined {
  const phase = job.status?.phase;
  if (isTerminal(phase) || phase !== 'ACTIVE') return undefined;
  const policy = job.spec?.restartPolicy ?? 'Never';
  let completed = 0;
  for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
    for (const r of ranks) {
      const s = rankState(job, cluster, r);
      if (s === 'FAILED' && (policy === 'Never' || (policy === 'OnFailure' && restartsOf(job, r) >= backoffLimitOf(job)))) return 'FAILED';
      if (s === 'COMPLETED') completed++;
    }
  }
  // Always (services) restarts finished replicas, so such a job never completes.
  if (policy !== 'Always' && completed === replicasOf(job) && unplacedRanks(job).length === 0) return 'COMPLETED';
  return 'ACTIVE';
}

/** Replace the condition of `cond.type`; lastTransitionTime only moves when the status flips. */
export function setCondition(conditions: readonly Condition[] | undefined, cond: Condition, now: string): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = { ...cond, lastTransitionTime: prev && prev.status === cond.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function getCondition(obj: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** Remove `ranks` from `cluster`'s placement and count them EVICTED there. Returns how many were removed. */
export function applyEviction(status: JobStatus, cluster: string, ranks: readonly number[]): number {
  const placements = { ...(status.placements ?? {}) };
  const before = placements[cluster] ?? [];
  const kept = before.filter((r) => !ranks.includes(r));
  const removed = before.length - kept.length;
  if (removed === 0) return 0;
  if (kept.length > 0) placements[cluster] = kept;
  else delete placements[cluster];
  status.placements = placements;
  const tasks = { ...(status.taskStatus?.[cluster] ?? {}) };
  for (const task of Object.keys(tasks)) {
    const r = rankOfTask(task);
    if (r !== undefined && ranks.includes(r)) delete tasks[task];
  }
  status.taskStatus = { ...(status.taskStatus ?? {}), [cluster]: tasks };
  if (Object.keys(tasks).length === 0) delete status.taskStatus[cluster];
  const rs = { ...(status.replicaStatus ?? {}) };
  rs[cluster] = { ...(rs[cluster] ?? {}), EVICTED: (rs[cluster]?.EVICTED ?? 0) + removed };
  status.replicaStatus = rs;
  return removed;
}

/** Recompute replicaStatus and phase after any change to placements or taskStatus. */
export function finishStatus(job: Job): void {
  job.status.replicaStatus = deriveReplicaStatus(job);
  const phase = derivePhase(job);
  if (phase && isTerminal(phase) && !isTerminal(job.status.phase)) job.status.completionTime ??= new Date().toISOString();
  if (phase) job.status.phase = phase;
}
