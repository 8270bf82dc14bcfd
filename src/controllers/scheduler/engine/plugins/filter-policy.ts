import { selectorMatches } from '../labels.js';
import { OK, reject, type FilterPlugin } from '../plugin.js';
import type { SchedFilterPolicy, SchedJob } from '../types.js';

/** Policies in the job's namespace whose labelsSelector ⊆ job labels (empty selector: every job). */
export function policiesFor(job: SchedJob, policies: readonly SchedFilterPolicy[]): SchedFilterPolicy[] {
  return policies
    .filter((p) => p.namespace === job.namespace && selectorMatches(p.labelsSelector, job.labels))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Why `cluster` is forbidden by the given (already applicable) policies, or undefined if allowed by all. */
export function policyRejection(cluster: string, policies: readonly SchedFilterPolicy[]): string | undefined {
  for (const p of policies) {
    const include = p.clusterFilter?.include ?? [];
    const exclude = p.clusterFilter?.exclude ?? [];
    if (exclude.includes(cluster)) return `excluded by FilterPolicy ${p.name}`;
    if (include.length > 0 && !include.includes(cluster)) return `not included by FilterPolicy ${p.name}`;
  }
  return undefined;
}

/** Every applicable FilterPolicy must allow the cluster (DESIGN 3, FilterPolicy). */
export const filterPolicyFilter: FilterPlugin = {
  name: 'FilterPolicy',
  filter(ctx, cluster) {
    const why = policyRejection(cluster.name, ctx.policies);
    return why === undefined ? OK : reject(why);
  },
};
