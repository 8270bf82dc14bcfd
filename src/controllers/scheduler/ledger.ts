/**
 * What the scheduler's reservation ledger learns from the API. The skylets
 * share no memory with the scheduler: a placement being evicted, a replica
 * shown on its manager or seen started all reach the ledger as Job status
 * (placements, taskStatus, tasksObservedAt) and Cluster heartbeats
 * (lastHeartbeatTime) read from the informers.
 */
import { hasStarted, placementsOf, rankOfTask, rankState, tasksObservedAt, type Job } from '../../api/index.js';
import { jobProblem } from '../runtime/index.js';
import type { Reservations } from './engine/index.js';
import { toSchedResources } from './sched-job.js';

/** Snapshot time (skylet's clock) of the newest heartbeat of a cluster the scheduler holds, if any. */
export type HeartbeatOf = (cluster: string) => number | undefined;

/**
 * Applies one job's status to the ledger; returns how many reservations it released. Ranks no longer
 * placed where they were reserved are released; ranks shown on their manager are alive (`now`, the
 * scheduler's clock); ranks shown started are observed at the snapshot time their skylet wrote, and a
 * heartbeat of that skylet taken strictly later (possibly already received) releases them.
 */
export function noteJob(ledger: Reservations, job: Job, heartbeatOf: HeartbeatOf, now: number): number {
  const uid = job.metadata.uid;
  if (!uid || !ledger.holds(uid)) return 0;
  const placements = placementsOf(job);
  let released = ledger.retainPlaced(uid, placements);
  for (const cluster of Object.keys(placements)) {
    const tasks = job.status?.taskStatus?.[cluster];
    if (!tasks) continue;
    const heartbeat = heartbeatOf(cluster);
    // Without the snapshot time (an object from an older skylet) only a heartbeat newer than the one we have counts.
    const at = tasksObservedAt(job, cluster) ?? heartbeat ?? Number.POSITIVE_INFINITY;
    for (const [task, state] of Object.entries(tasks)) {
      const rank = rankOfTask(task);
      if (rank === undefined) continue;
      ledger.markSeen(uid, cluster, rank, now);
      // Only this job's ranks can have changed: confirm them one by one (a later heartbeat scans the cluster).
      if (hasStarted(state) && ledger.markStarted(uid, cluster, rank, at) && heartbeat !== undefined && ledger.confirmOne(uid, rank, heartbeat)) released++;
    }
  }
  return released;
}

/** Whether the job's status shows replica `rank` on `cluster`'s manager: a reservation that is not lost. */
export function shownOnManager(job: Job | undefined, cluster: string, rank: number): boolean {
  if (!job) return false;
  return Object.keys(job.status?.taskStatus?.[cluster] ?? {}).some((t) => rankOfTask(t) === rank);
}

/**
 * At startup the ledger is empty (it died with the last process): every placed replica not yet started
 * holds capacity again, then what the statuses already show is applied.
 */
export function rebuildLedger(ledger: Reservations, jobs: readonly Job[], nodeOf: (cluster: string) => string, heartbeatOf: HeartbeatOf, now: number): void {
  for (const job of jobs) {
    if (job.status?.phase !== 'ACTIVE' || !job.metadata.uid || jobProblem(job) !== undefined) continue;
    const demand = toSchedResources(job.spec.resources ?? {});
    for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
      for (const r of ranks) {
        const s = rankState(job, cluster, r);
        if (s === 'PENDING' || s === 'INIT') ledger.reserve(job.metadata.uid, cluster, nodeOf(cluster), r, demand, now);
      }
    }
    noteJob(ledger, job, heartbeatOf, now);
  }
}
