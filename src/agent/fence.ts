/**
 * Fencing (DESIGN 12): before an agent (re)starts its skylet, and so before it
 * reports any task state, every replica its manager runs that is no longer
 * placed on its cluster is stopped. While the agent was away its cluster went
 * ERROR and the scheduler placed those ranks elsewhere; without this a rank
 * would run twice once the partition heals.
 *
 * The truth is a fresh list of jobs from the server, not a cache: a job the
 * agent cannot see (deleted, or — with an agent token — no longer placed on
 * its cluster at all) has all of its work here stopped. Any failure throws,
 * so the skylet does not start on an unfenced machine.
 */
import { placementsOf, type Job } from '../api/index.js';
import type { SkyShiftClient } from '../client/index.js';
import type { ClusterManager, JobRef } from '../managers/index.js';

export interface Fenced {
  job: string;
  uid: string;
  /** Ranks stopped; undefined: the whole job. */
  ranks: number[] | undefined;
  why: string;
}

export async function fence(client: SkyShiftClient, manager: ClusterManager, cluster: string, signal?: AbortSignal): Promise<Fenced[]> {
  // Nothing submits while fencing (the skylet is not running yet), so the two lists describe the same moment's work.
  const tasks = await manager.tasks(signal);
  if (tasks.length === 0) return [];
  const jobs = await client.listAll<Job>('jobs', { signal });
  const byUid = new Map<string, Job>();
  for (const j of jobs.items) if (j.metadata.uid) byUid.set(j.metadata.uid, j);
  const out: Fenced[] = [];
  for (const jt of tasks) {
    signal?.throwIfAborted();
    const ref: JobRef = { uid: jt.uid, namespace: jt.namespace, name: jt.name };
    const job = byUid.get(jt.uid);
    const label = `${jt.namespace}/${jt.name}`;
    if (!job) {
      await manager.cancel(ref);
      out.push({ job: label, uid: jt.uid, ranks: undefined, why: 'job gone or no longer placed on this cluster' });
      continue;
    }
    const placed = new Set(placementsOf(job)[cluster] ?? []);
    const extra = [...new Set(Object.values(jt.ranks))].filter((r) => !placed.has(r)).sort((a, b) => a - b);
    if (extra.length === 0) continue;
    await manager.cancel(ref, extra);
    out.push({ job: label, uid: jt.uid, ranks: extra, why: 'ranks placed elsewhere' });
  }
  return out;
}
