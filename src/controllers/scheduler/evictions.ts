/**
 * Evictions the scheduler itself decides: replicas running where a
 * FilterPolicy now forbids them, and placements on clusters that no longer
 * exist. Each is a job status write (runtime/evict.ts); the freed room and the
 * re-placement follow from the job event like any other eviction's.
 */
import { placementsOf, unfinishedPlacements, type Job } from '../../api/index.js';
import { evictReplicas, jobProblem } from '../runtime/index.js';
import type { ControllerContext } from '../controller.js';
import { evictionsFor, type SchedFilterPolicy } from './engine/index.js';
import { toSchedJob } from './sched-job.js';

type Evicted = (job: Job, ranks: readonly number[]) => void;

async function evict(
  ctx: ControllerContext,
  job: Job,
  cluster: string,
  ranks: readonly number[],
  message: string,
  signal: AbortSignal,
  onEvicted: Evicted,
): Promise<void> {
  const out = await evictReplicas({ client: ctx.client, events: ctx.events }, job, cluster, ranks, message, 'scheduler', signal);
  if (out) onEvicted(out, ranks);
}

function activeSane(jobs: readonly Job[]): Job[] {
  return jobs.filter((job) => job.status?.phase === 'ACTIVE' && jobProblem(job) === undefined);
}

/** Replicas running where a FilterPolicy now forbids them are EVICTED (their skylet cancels them) and placed again. */
export async function enforcePolicies(
  ctx: ControllerContext,
  jobs: readonly Job[],
  policies: readonly SchedFilterPolicy[],
  signal: AbortSignal,
  onEvicted: Evicted,
): Promise<void> {
  if (policies.length === 0) return;
  for (const job of activeSane(jobs)) {
    for (const ev of evictionsFor(toSchedJob(job), unfinishedPlacements(job), policies)) {
      await evict(ctx, job, ev.cluster, ev.ranks, `replicas ${ev.ranks.join(',')} evicted from cluster '${ev.cluster}': ${ev.reason}`, signal, onEvicted);
    }
  }
}

/** Placements on clusters that no longer exist (deleted while we were down, or just now) are evicted. */
export async function evictFromDeletedClusters(
  ctx: ControllerContext,
  jobs: readonly Job[],
  exists: (cluster: string) => boolean,
  signal: AbortSignal,
  onEvicted: Evicted,
): Promise<void> {
  for (const job of activeSane(jobs)) {
    for (const [cluster, ranks] of Object.entries(placementsOf(job))) {
      if (!exists(cluster)) await evict(ctx, job, cluster, ranks, `cluster '${cluster}' no longer exists`, signal, onEvicted);
    }
  }
}
