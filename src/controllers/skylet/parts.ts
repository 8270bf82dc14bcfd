/**
 * The skylet's small pieces kept apart from skylet.ts: timing constants, the
 * heartbeat's cluster status write and key helpers.
 */
import type { SkyShiftClient } from '../../client/index.js';
import { setCondition, type Cluster, type ClusterStatus, type Job } from '../../api/index.js';
import { mutateStatus } from '../runtime/index.js';

/** Writes one heartbeat: `status` over the stored one, with lastHeartbeatTime and the Ready condition. */
export function writeHeartbeat(
  client: SkyShiftClient,
  current: Cluster,
  status: Partial<ClusterStatus>,
  ready: boolean,
  message: string | undefined,
  nowIso: string,
  signal: AbortSignal,
): Promise<Cluster | undefined> {
  return mutateStatus<Cluster>(
    client,
    'clusters',
    current,
    (c) => {
      c.status = {
        ...c.status,
        ...status,
        // The snapshot time, not the write time: reservations made before it are visible in allocatable.
        lastHeartbeatTime: nowIso,
        conditions: setCondition(
          c.status?.conditions,
          { type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'HeartbeatOK' : 'HeartbeatFailed', ...(message !== undefined ? { message } : {}) },
          nowIso,
        ),
      };
      if (message === undefined) delete c.status.message;
      return true;
    },
    { signal },
  );
}

/** A rank submitted but still not started after this long is submitted again (idempotent). */
export const RESUBMIT_MS = 30_000;
/** Follow-up polls after a submit start this soon and stop once the ranks submitted this long ago have started. */
export const FOLLOW_MIN_MS = 50;
export const FOLLOW_WINDOW_MS = 10_000;
/** Job status writes of one sync in flight at once. */
export const SYNC_CONCURRENCY = 8;
/**
 * Heartbeats kicked by submits come at most this often (the periodic one is unaffected). They only confirm
 * reservations sooner; each one rewrites the whole node list, and at 200 ms a burst onto 100 clusters meant
 * 500 cluster writes/s competing with the placements.
 */
export const MIN_HEARTBEAT_GAP_MS = 1000;

export function keyOf(job: Job): string {
  return `${job.metadata.namespace ?? 'default'}/${job.metadata.name}`;
}

export function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
