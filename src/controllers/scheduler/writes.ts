/**
 * The scheduler's job status writes, each one read-modify-write with the
 * resourceVersion it was computed from (a Conflict means re-read and re-apply
 * or, for placements, decide again — never overwrite).
 */
import type { SkyShiftClient } from '../../client/index.js';
import { finishStatus, getCondition, isTerminal, needsScheduling, setCondition, type Job } from '../../api/index.js';
import { mutateStatus } from '../runtime/index.js';

function placedSummary(placed: Record<string, number[]>): string {
  return Object.entries(placed)
    .map(([c, r]) => `${c}: ${r.length}`)
    .join(', ');
}

/** Condition type set (reason ExceedsEveryCluster) while no READY cluster could ever hold one replica. */
export const UNSCHEDULABLE = 'Unschedulable';

/** The Unschedulable condition set to `exceeds`, or removed when undefined. */
function withExceeds(conditions: Job['status']['conditions'], exceeds: string | undefined, nowIso: string): Job['status']['conditions'] {
  if (exceeds === undefined) return (conditions ?? []).filter((c) => c.type !== UNSCHEDULABLE);
  return setCondition(conditions, { type: UNSCHEDULABLE, status: 'True', reason: 'ExceedsEveryCluster', message: exceeds }, nowIso);
}

/** The message of the Scheduled event: where each rank went, and the candidates considered. */
export function scheduledMessage(placed: Record<string, number[]>, ranking: readonly string[]): string {
  const ranks = Object.entries(placed)
    .map(([c, r]) => `${c}: ${r.join(',')}`)
    .join('; ');
  return `placed ${placedSummary(placed)} (ranks ${ranks}); candidates best first: ${ranking.join(', ')}`;
}

/**
 * Writes a placement decided on `job` (the informer copy). Deliberately not
 * retried on Conflict: the decision was made on that copy, so if anyone wrote
 * since, it must be decided again on the newer one.
 */
export async function writePlacement(client: SkyShiftClient, job: Job, placed: Record<string, number[]>, nowIso: string, signal: AbortSignal): Promise<Job> {
  // Shallow: every status field changed below is replaced, never edited in place, so the informer's copy
  // stays untouched without deep-cloning each of 10,000 jobs.
  const copy: Job = { ...job, status: { ...(job.status ?? {}) } };
  const placements = { ...(copy.status.placements ?? {}) };
  for (const [cluster, ranks] of Object.entries(placed)) {
    placements[cluster] = [...new Set([...(placements[cluster] ?? []), ...ranks])].sort((a, b) => a - b);
  }
  copy.status.placements = placements;
  copy.status.phase = 'ACTIVE';
  copy.status.conditions = setCondition(
    copy.status.conditions,
    { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: `placed ${placedSummary(placed)}` },
    nowIso,
  );
  copy.status.conditions = withExceeds(copy.status.conditions, undefined, nowIso);
  finishStatus(copy);
  return client.updateStatus<Job>('jobs', copy, { signal });
}

/** PENDING (or ACTIVE with evicted replicas) with the per-cluster reasons. Undefined when nothing was written. */
export async function writeUnschedulable(
  client: SkyShiftClient,
  job: Job,
  phase: 'PENDING' | 'ACTIVE',
  message: string,
  nowIso: string,
  signal: AbortSignal,
  exceeds?: string,
): Promise<Job | undefined> {
  const out = await mutateStatus(
    client,
    'jobs',
    job,
    (j) => {
      if (!needsScheduling(j)) return false;
      const cond = getCondition(j, 'Scheduled');
      const exceedsNow = getCondition(j, UNSCHEDULABLE)?.message;
      if (cond?.status === 'False' && cond.message === message && j.status.phase === phase && exceedsNow === exceeds) return false;
      j.status.phase = phase;
      j.status.conditions = setCondition(j.status.conditions, { type: 'Scheduled', status: 'False', reason: 'Unschedulable', message }, nowIso);
      j.status.conditions = withExceeds(j.status.conditions, exceeds, nowIso);
      return true;
    },
    { signal, attempts: 2 },
  );
  return out && out !== job ? out : undefined;
}

/** maxPendingSeconds ran out: FAILED with reason PendingTimeout. Undefined when nothing was written. */
export async function writePendingTimeout(client: SkyShiftClient, job: Job, message: string, nowIso: string, signal: AbortSignal): Promise<Job | undefined> {
  const out = await mutateStatus(
    client,
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
  return out && out !== job ? out : undefined;
}
