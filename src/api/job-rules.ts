/**
 * Pure rules over Job status, shared by the scheduler and every skylet.
 *
 * Status fields and who writes them:
 *  - placements {cluster: ranks}: the scheduler, BEFORE anything is submitted,
 *    so a crash after the write never places twice and a crash before it just
 *    decides again. Eviction removes ranks; unplaced ranks of an ACTIVE job
 *    are what the scheduler places again.
 *  - taskStatus {cluster: {task: state}}: the cluster's skylet, from manager.tasks(),
 *    only for ranks currently placed there.
 *  - replicaStatus {cluster: {STATE: n}}: derived from placements + taskStatus
 *    (a placed rank with no task yet counts PENDING); EVICTED counts are history
 *    kept per cluster.
 *  - phase: ACTIVE -> COMPLETED when every rank is placed and COMPLETED;
 *    FAILED when a rank FAILED and restartPolicy is Never (or OnFailure and
 *    it was restarted MAX_RESTARTS times already).
 */
import type { Condition, JobObj, JobStatusView, ReplicaState } from './types.js';

const TASK_RANK = /-(\d+)$/;

/** Task names carry the replica rank as their last `-N` (both managers name tasks `<job>-<rank>`). */
export function rankOfTask(task: string): number | undefined {
  const m = TASK_RANK.exec(task);
  return m ? Number(m[1]) : undefined;
}

export function taskName(jobName: string, rank: number): string {
  return `${jobName}-${rank}`;
}

export function placementsOf(job: JobObj): Record<string, number[]> {
  return job.status?.placements ?? {};
}

export function placedRanks(job: JobObj): Set<number> {
  const out = new Set<number>();
  for (const ranks of Object.values(placementsOf(job))) for (const r of ranks) out.add(r);
  return out;
}

/**
 * Bounded whatever the object says: controllers ask sanity.ts before working on a job, and this cap
 * turns a path that forgot to into a bounded loop instead of an allocation that aborts the process.
 */
const REPLICAS_HARD_CAP = 1_000_000;

export function replicasOf(job: JobObj): number {
  const n = job.spec?.replicas ?? 1;
  return Number.isInteger(n) && n >= 1 ? Math.min(n, REPLICAS_HARD_CAP) : 1;
}

/** Ranks 0..replicas-1 not placed anywhere: new jobs, or replicas that were evicted. */
export function unplacedRanks(job: JobObj): number[] {
  const placed = placedRanks(job);
  const out: number[] = [];
  for (let r = 0; r < replicasOf(job); r++) if (!placed.has(r)) out.push(r);
  return out;
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === 'COMPLETED' || phase === 'FAILED';
}

/** State of one placed rank as the cluster's skylet last reported it. */
export function rankState(job: JobObj, cluster: string, rank: number): ReplicaState {
  const tasks = job.status?.taskStatus?.[cluster] ?? {};
  for (const [task, state] of Object.entries(tasks)) {
    if (rankOfTask(task) === rank) return state as ReplicaState;
  }
  return 'PENDING';
}

/** Placed ranks per cluster that have not finished (what a cluster failure or policy would evict). */
export function unfinishedPlacements(job: JobObj): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
    const open = ranks.filter((r) => rankState(job, cluster, r) !== 'COMPLETED');
    if (open.length > 0) out[cluster] = open;
  }
  return out;
}

/** replicaStatus derived from placements + taskStatus, keeping each cluster's EVICTED history. */
export function deriveReplicaStatus(job: JobObj): Record<string, Record<string, number>> {
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

export function restartsOf(job: JobObj, rank: number): number {
  return job.status?.restarts?.[String(rank)] ?? 0;
}

/** Whether a replica in `state` is restarted rather than left as it is. */
export function shouldRestart(job: JobObj, rank: number, state: string | undefined): boolean {
  const policy = job.spec?.restartPolicy ?? 'Never';
  if (policy === 'Always') return state === 'FAILED' || state === 'COMPLETED';
  return policy === 'OnFailure' && state === 'FAILED' && restartsOf(job, rank) < MAX_RESTARTS;
}

/** The phase the replicas imply for a placed job; undefined: leave the phase as it is. */
export function derivePhase(job: JobObj): 'ACTIVE' | 'COMPLETED' | 'FAILED' | undefined {
  const phase = job.status?.phase;
  if (isTerminal(phase) || phase !== 'ACTIVE') return undefined;
  const policy = job.spec?.restartPolicy ?? 'Never';
  let completed = 0;
  for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
    for (const r of ranks) {
      const s = rankState(job, cluster, r);
      if (s === 'FAILED' && (policy === 'Never' || (policy === 'OnFailure' && restartsOf(job, r) >= MAX_RESTARTS))) return 'FAILED';
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

export function getCondition(job: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/** Remove `ranks` from `cluster`'s placement and count them EVICTED there. Returns how many were removed. */
export function applyEviction(status: JobStatusView, cluster: string, ranks: readonly number[]): number {
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
export function finishStatus(job: JobObj): void {
  job.status.replicaStatus = deriveReplicaStatus(job);
  const phase = derivePhase(job);
  if (phase) job.status.phase = phase;
}
