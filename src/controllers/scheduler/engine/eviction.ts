/**
 * Which running replicas a FilterPolicy change forces off their cluster
 * (DESIGN 3, FilterPolicy: enforced "by eviction when a new or changed policy
 * excludes a cluster that already runs matching replicas").
 */
import { policiesFor, policyRejection } from './plugins/filter-policy.js';
import type { SchedFilterPolicy, SchedJob } from './types.js';

export interface Eviction {
  cluster: string;
  ranks: number[];
  /** e.g. `excluded by FilterPolicy no-cloud`, for the Evicted event. */
  reason: string;
}

/** `running`: cluster -> ranks of the job's non-terminal replicas there. Result sorted by cluster name. */
export function evictionsFor(job: SchedJob, running: Readonly<Record<string, readonly number[]>>, policies: readonly SchedFilterPolicy[]): Eviction[] {
  const applicable = policiesFor(job, policies);
  if (applicable.length === 0) return [];
  const out: Eviction[] = [];
  for (const cluster of Object.keys(running).sort()) {
    const ranks = running[cluster] ?? [];
    if (ranks.length === 0) continue;
    const reason = policyRejection(cluster, applicable);
    if (reason !== undefined) out.push({ cluster, ranks: [...ranks].sort((a, b) => a - b), reason });
  }
  return out;
}
