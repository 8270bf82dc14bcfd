/**
 * A FAILED job's replicas that are still running are cancelled, as a
 * Kubernetes Job controller terminates a Job's active pods once backoffLimit is
 * reached: a failed job must not keep holding (or billing) capacity. Each
 * skylet does this for its own cluster's share as soon as it sees the job turn
 * FAILED, marks those tasks CANCELLED in the job status (so replicaStatus no
 * longer claims they run) and records a `Cancelled` Event.
 */
import type { ClusterManager } from '../../managers/index.js';
import { deriveReplicaStatus, placementsOf, rankOfTask, rankState, taskName, type Job } from '../../api/index.js';
import { mutateStatus, type EventRecorder } from '../runtime/index.js';
import type { SkyShiftClient } from '../../client/index.js';

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EVICTED']);

/** Ranks placed on `cluster` that have not finished, by the job's status. */
export function liveRanks(job: Job, cluster: string): number[] {
  return (placementsOf(job)[cluster] ?? []).filter((r) => !FINISHED.has(rankState(job, cluster, r)));
}

export async function cancelFailedJob(
  deps: { client: SkyShiftClient; events: Pick<EventRecorder, 'record'> },
  manager: Pick<ClusterManager, 'cancel'>,
  cluster: string,
  job: Job,
  signal: AbortSignal,
): Promise<number[]> {
  if (job.status?.phase !== 'FAILED' || !job.metadata.uid) return [];
  const ranks = liveRanks(job, cluster);
  if (ranks.length === 0) return [];
  const ref = { uid: job.metadata.uid, namespace: job.metadata.namespace ?? 'default', name: job.metadata.name };
  // Cancel first, then record: a crash in between cancels again (idempotent) on the next event or sync.
  await manager.cancel(ref, ranks);
  const out = await mutateStatus(
    deps.client,
    'jobs',
    job,
    (j) => {
      if (j.status.phase !== 'FAILED' || j.metadata.uid !== ref.uid) return false;
      const tasks = { ...(j.status.taskStatus?.[cluster] ?? {}) };
      const named = new Map<number, string>();
      for (const t of Object.keys(tasks)) {
        const r = rankOfTask(t);
        if (r !== undefined) named.set(r, t);
      }
      let changed = false;
      for (const r of ranks) {
        const t = named.get(r) ?? taskName(j.metadata.name, r);
        if (FINISHED.has(tasks[t] ?? '')) continue;
        tasks[t] = 'CANCELLED';
        changed = true;
      }
      if (!changed) return false;
      j.status.taskStatus = { ...(j.status.taskStatus ?? {}), [cluster]: tasks };
      j.status.replicaStatus = deriveReplicaStatus(j);
      return true;
    },
    { signal },
  );
  if (out && out !== job) {
    deps.events.record(
      out,
      'Cancelled',
      `cancelled replicas ${ranks.join(',')} on cluster '${cluster}': job FAILED (restartPolicy ${job.spec.restartPolicy ?? 'Never'})`,
      { source: `skylet/${cluster}` },
    );
  }
  return ranks;
}
