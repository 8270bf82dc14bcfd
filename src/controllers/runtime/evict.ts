/**
 * Evicting replicas is a job status write: `ranks` leave `cluster`'s
 * placement (counted EVICTED there) and the scheduler, reading the job from
 * its informer, frees the room it held for them and places them again.
 * Anyone may evict (the scheduler for policies and deleted clusters, a skylet
 * for its dead cluster) without sharing anything with the scheduler but the API.
 */
import { applyEviction, finishStatus, type Job } from '../../api/index.js';
import type { SkyShiftClient } from '../../client/index.js';
import type { EventRecorder } from './events.js';
import { mutateStatus } from './status-writer.js';

/** Writes the eviction and records an Evicted Event; resolves to the stored job, or undefined when nothing changed. */
export async function evictReplicas(
  deps: { client: SkyShiftClient; events: EventRecorder },
  job: Job,
  cluster: string,
  ranks: readonly number[],
  message: string,
  source: string,
  signal: AbortSignal,
): Promise<Job | undefined> {
  let removed = 0;
  const out = await mutateStatus(
    deps.client,
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
  if (!out || removed === 0) return undefined;
  deps.events.record(out, 'Evicted', message, { source });
  return out;
}
