/**
 * API Job -> the scheduler's view of it (src/controllers/scheduler works on
 * plain SchedJob values and never sees API objects).
 */
import type { SchedFilterPolicy, SchedJob } from './engine/index.js';
import { replicasOf, unplacedRanks, type FilterPolicy, type Job } from '../../api/index.js';

/** What a decision depends on besides capacity: jobs of one shape get the same "does not fit". */
export function shapeOf(job: Job): string {
  return JSON.stringify([job.spec.resources ?? {}, unplacedRanks(job).length, job.spec.placement ?? null, job.metadata.labels ?? {}]);
}

export function toSchedResources(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number') out[k] = v;
  return out;
}

export function toSchedJob(job: Job): SchedJob {
  const placement = (job.spec.placement ?? {}) as { filters?: any[]; preferences?: any[] };
  return {
    namespace: job.metadata.namespace ?? 'default',
    name: job.metadata.name,
    uid: job.metadata.uid ?? `${job.metadata.namespace}/${job.metadata.name}`,
    labels: job.metadata.labels ?? {},
    replicas: replicasOf(job),
    resources: toSchedResources(job.spec.resources ?? {}),
    placement: {
      filters: (placement.filters ?? []).map((f, i) => ({ ...f, name: f.name ?? `filter-${i}` })),
      preferences: (placement.preferences ?? []).map((p, i) => ({ ...p, name: p.name ?? `preference-${i}`, weight: p.weight ?? 1 })),
    },
    priority: job.spec.priority ?? 0,
    ...(job.metadata.creationTimestamp ? { creationTimestamp: job.metadata.creationTimestamp } : {}),
  };
}

export function toSchedPolicy(p: FilterPolicy): SchedFilterPolicy {
  return {
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    labelsSelector: p.spec?.labelsSelector ?? {},
    clusterFilter: { include: p.spec?.clusterFilter?.include ?? [], exclude: p.spec?.clusterFilter?.exclude ?? [] },
  };
}
