/**
 * The placement decision (DESIGN 7): filter → score → spread, whole job or
 * nothing. Pure and deterministic: the same clusters, policies, job and
 * ledger always give the same answer; nothing here does I/O or reads a clock.
 */
import { CapacityIndex } from './capacity.js';
import type { FilterPlugin, SchedContext, ScorePlugin } from './plugin.js';
import { filterPolicyFilter, policiesFor } from './plugins/filter-policy.js';
import { placementFiltersFilter } from './plugins/placement-filters.js';
import { preferenceScore } from './plugins/preferences.js';
import { readyFilter } from './plugins/ready.js';
import { freeCapacityScore, resourcesFitFilter } from './plugins/resources-fit.js';
import type { Reservations } from './reservations.js';
import { demandOf, formatAmount, normalizeNode, orderedKeys, replicasFitting } from './resources.js';
import type { Resources, SchedCluster, SchedFilterPolicy, SchedJob } from './types.js';

export const DEFAULT_FILTERS: readonly FilterPlugin[] = [readyFilter, filterPolicyFilter, placementFiltersFilter, resourcesFitFilter];
export const DEFAULT_SCORES: readonly ScorePlugin[] = [preferenceScore, freeCapacityScore];

export interface ScheduleInput {
  clusters: readonly SchedCluster[];
  policies?: readonly SchedFilterPolicy[];
  job: SchedJob;
  /** Replica ranks to place; default every rank 0..replicas-1. Pass only the EVICTED ranks when rescheduling. */
  ranks?: readonly number[];
  reservations: Reservations;
}

export interface ReservationRequest {
  jobUid: string;
  cluster: string;
  node: string;
  rank: number;
  resources: Resources;
}

export interface PlacedDecision {
  kind: 'placed';
  /** cluster -> replica ranks placed there, ascending. */
  placed: Record<string, number[]>;
  /** One per placed replica; add them to the ledger (commitPlacement) once the job status is written. */
  reservations: ReservationRequest[];
  /** Eligible clusters best first, for events and debugging. */
  ranking: string[];
}

export interface PendingDecision {
  kind: 'pending';
  pending: true;
  /** cluster -> why it could not take the job (or its share). */
  reasons: Record<string, string>;
  /** `0/2 clusters can run 4 replicas: a: ...; b: ...` */
  message: string;
  /** Set when no READY cluster could ever hold one replica (it exceeds every node's capacity): says so. */
  exceedsEvery?: string;
}

export type Decision = PlacedDecision | PendingDecision;

export interface SchedulerOptions {
  filters?: readonly FilterPlugin[];
  scores?: readonly ScorePlugin[];
}

export class Scheduler {
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
  /** Capacity summaries survive between decisions; rebuilt only for clusters that changed. */
  readonly capacity = new CapacityIndex();

  constructor(options: SchedulerOptions = {}) {
    this.filters = options.filters ?? DEFAULT_FILTERS;
    this.scores = options.scores ?? DEFAULT_SCORES;
  }

  schedule(input: ScheduleInput): Decision {
    const { job, reservations } = input;
    const ranks = [...(input.ranks ?? Array.from({ length: job.replicas }, (_, i) => i))].sort((a, b) => a - b);
    const demand = demandOf(job.resources);
    const ctx: SchedContext = {
      job,
      demand,
      demandKeys: orderedKeys(demand),
      replicas: ranks.length,
      policies: policiesFor(job, input.policies ?? []),
      capacity: (c) => this.capacity.summary(c, reservations),
    };
    if (ranks.length === 0) return { kind: 'placed', placed: {}, reservations: [], ranking: [] };

    const reasons: Record<string, string> = {};
    const eligible: { cluster: SchedCluster; factors: number[]; score: number }[] = [];
    for (const cluster of input.clusters) {
      const rejection = this.firstRejection(ctx, cluster);
      if (rejection !== undefined) {
        reasons[cluster.name] = rejection;
        continue;
      }
      const factors = this.scores.map((s) => s.score(ctx, cluster));
      eligible.push({ cluster, factors, score: factors.reduce((a, b) => a * b, 1) });
    }
    eligible.sort((a, b) => compareRanked(a, b));

    const placed: Record<string, number[]> = {};
    const out: ReservationRequest[] = [];
    let next = 0;
    for (const { cluster } of eligible) {
      let taken = 0;
      for (const node of ctx.capacity(cluster).nodes) {
        if (next >= ranks.length) break;
        const fit = Math.min(replicasFitting(node.free, demand, ctx.demandKeys), ranks.length - next);
        for (let i = 0; i < fit; i++) {
          const rank = ranks[next++] as number;
          (placed[cluster.name] ??= []).push(rank);
          out.push({ jobUid: job.uid, cluster: cluster.name, node: node.name, rank, resources: demand });
        }
        taken += fit;
      }
      if (next >= ranks.length) break;
      // Whole job or nothing: remember this cluster's share in case the job cannot be completed.
      reasons[cluster.name] = `fits only ${taken} of ${plural(ranks.length)}`;
    }
    if (next >= ranks.length) return { kind: 'placed', placed, reservations: out, ranking: eligible.map((e) => e.cluster.name) };
    const exceeds = exceedsEveryCluster(input.clusters, demand, ctx.demandKeys);
    return {
      kind: 'pending',
      pending: true,
      reasons,
      message: pendingMessage(input.clusters.length, ranks.length, reasons),
      ...(exceeds ? { exceedsEvery: exceeds } : {}),
    };
  }

  private firstRejection(ctx: SchedContext, cluster: SchedCluster): string | undefined {
    for (const f of this.filters) {
      const r = f.filter(ctx, cluster);
      if (!r.ok) return r.reason;
    }
    return undefined;
  }
}

function compareRanked(a: { cluster: SchedCluster; factors: number[]; score: number }, b: typeof a): number {
  if (a.score !== b.score) return b.score - a.score;
  for (let i = 0; i < a.factors.length; i++) {
    const d = (b.factors[i] ?? 0) - (a.factors[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.cluster.name < b.cluster.name ? -1 : a.cluster.name > b.cluster.name ? 1 : 0;
}

/**
 * When at least one cluster is READY and no node of any READY cluster has the
 * capacity (total, not free room) for one replica: a message saying so, naming
 * each cluster's largest node. Undefined when some READY cluster could take a
 * replica once it has room, or when a READY cluster reported no nodes.
 */
export function exceedsEveryCluster(clusters: readonly SchedCluster[], demand: Resources, keys: readonly string[]): string | undefined {
  const ready = clusters.filter((c) => c.phase === 'READY');
  if (ready.length === 0 || keys.length === 0) return undefined;
  const largest: string[] = [];
  for (const c of ready) {
    const nodes = Object.values(c.capacity ?? {}).map(normalizeNode);
    if (nodes.length === 0) return undefined;
    if (nodes.some((n) => replicasFitting(n, demand, keys) > 0)) return undefined;
    const best = keys.map((k) => `${k} ${formatAmount(Math.max(0, ...nodes.map((n) => n[k] ?? 0)))}`).join(', ');
    largest.push(`${c.name}: ${best}`);
  }
  const wanted = keys.map((k) => `${k} ${formatAmount(demand[k] ?? 0)}`).join(', ');
  return `one replica needs ${wanted}, more than any node of any READY cluster has in total (largest node per cluster: ${largest.sort().join('; ')}); the job stays PENDING until a cluster that can hold it is added`;
}

const plural = (n: number) => `${n} replica${n === 1 ? '' : 's'}`;

function pendingMessage(clusterCount: number, replicas: number, reasons: Record<string, string>): string {
  const parts = Object.keys(reasons)
    .sort()
    .map((name) => `${name}: ${reasons[name]}`);
  const detail = clusterCount === 0 ? 'no clusters registered' : parts.join('; ');
  return `0/${clusterCount} clusters can run ${plural(replicas)}: ${detail}`;
}

/** Add a placed decision's reservations to the ledger. */
export function commitPlacement(ledger: Reservations, decision: PlacedDecision, now = 0): void {
  for (const r of decision.reservations) ledger.reserve(r.jobUid, r.cluster, r.node, r.rank, r.resources, now);
}

/** One-shot convenience; long-lived controllers keep a Scheduler so capacity summaries are cached. */
export function schedule(input: ScheduleInput, options?: SchedulerOptions): Decision {
  return new Scheduler(options).schedule(input);
}
