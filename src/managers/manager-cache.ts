/**
 * What the API server's manager-side helpers share (logs.ts, streams.ts): one
 * manager per Cluster object, built from the stored Cluster and rebuilt only
 * when its spec changes, and the defensive reading of a job's status
 * (placements: cluster -> ranks; taskStatus: cluster -> task -> state).
 */
import { ApiError, rankOfTask } from '../api/index.js';
import { createManager, type ClusterRef } from './registry.js';
import type { ClusterManager } from './types.js';

export interface ManagerCacheOptions {
  /** The stored Cluster object named `name`, or undefined. */
  getCluster: (name: string) => Promise<unknown>;
  managerFactory?: (cluster: ClusterRef) => ClusterManager;
}

/** The manager of cluster `name`; 404 when no such Cluster exists. */
export type ManagerCache = (name: string) => Promise<ClusterManager>;

export function createManagerCache(options: ManagerCacheOptions): ManagerCache {
  const cache = new Map<string, { spec: string; manager: ClusterManager }>();
  const factory = options.managerFactory ?? ((c: ClusterRef) => createManager(c));
  return async function managerFor(name: string): Promise<ClusterManager> {
    const cluster = await options.getCluster(name);
    if (!isClusterRef(cluster)) throw new ApiError('NotFound', `cluster '${name}' not found`);
    const spec = JSON.stringify(cluster.spec);
    const hit = cache.get(name);
    if (hit && hit.spec === spec) return hit.manager;
    const manager = factory(cluster);
    cache.set(name, { spec, manager });
    return manager;
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isClusterRef(v: unknown): v is ClusterRef {
  return isRecord(v) && isRecord(v.metadata) && typeof v.metadata.name === 'string' && isRecord(v.spec) && typeof v.spec.manager === 'string';
}

export interface PlacedTasks {
  placements: Record<string, number[]>;
  taskStatus: Record<string, Record<string, unknown>>;
}

/** The job status fields that say where each task runs, read defensively (status is whatever the store holds). */
export function placedTasks(status: unknown): PlacedTasks {
  const placements: Record<string, number[]> = {};
  const taskStatus: Record<string, Record<string, unknown>> = {};
  if (!isRecord(status)) return { placements, taskStatus };
  if (isRecord(status.placements)) {
    for (const [cluster, ranks] of Object.entries(status.placements)) {
      if (Array.isArray(ranks)) placements[cluster] = ranks.filter((r): r is number => typeof r === 'number');
    }
  }
  if (isRecord(status.taskStatus)) {
    for (const [cluster, tasks] of Object.entries(status.taskStatus)) if (isRecord(tasks)) taskStatus[cluster] = tasks;
  }
  return { placements, taskStatus };
}

/** Task names in rank order (hello-2 before hello-10). */
export function byRank(a: string, b: string): number {
  const ra = rankOfTask(a);
  const rb = rankOfTask(b);
  if (ra !== undefined && rb !== undefined && ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}
