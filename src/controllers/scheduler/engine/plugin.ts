/**
 * Filter and score steps are plugins so a new policy is a new file
 * (DESIGN 7.7). Filters run in order and the first rejection is the reason
 * reported for that cluster; scores multiply (weight × free capacity) and
 * ties fall back to each plugin's own score in order, then to cluster name.
 */
import type { CapacitySummary } from './capacity.js';
import type { Resources, SchedCluster, SchedFilterPolicy, SchedJob } from './types.js';

export interface SchedContext {
  readonly job: SchedJob;
  /** Per-replica demand (see demandOf). */
  readonly demand: Resources;
  /** Keys of `demand` in report order. */
  readonly demandKeys: readonly string[];
  /** Replicas this decision must place (may be fewer than job.replicas when rescheduling). */
  readonly replicas: number;
  /** FilterPolicies of the job's namespace whose selector matches the job. */
  readonly policies: readonly SchedFilterPolicy[];
  capacity(cluster: SchedCluster): CapacitySummary;
}

export type FilterResult = { ok: true } | { ok: false; reason: string };

export interface FilterPlugin {
  readonly name: string;
  filter(ctx: SchedContext, cluster: SchedCluster): FilterResult;
}

export interface ScorePlugin {
  readonly name: string;
  /** A non-negative factor; the cluster's score is the product over plugins. */
  score(ctx: SchedContext, cluster: SchedCluster): number;
}

export const OK: FilterResult = { ok: true };
export const reject = (reason: string): FilterResult => ({ ok: false, reason });
