import { OK, reject, type FilterPlugin, type FilterResult, type ScorePlugin } from '../plugin.js';
import type { CapacitySummary } from '../capacity.js';
import { formatAmount, replicasFitting } from '../resources.js';
import type { Resources } from '../types.js';

/**
 * At least one node must fit one replica after reservations. `largest` rejects
 * most clusters without looking at nodes; the node scan only runs when every
 * resource is individually available somewhere.
 */
export const resourcesFitFilter: FilterPlugin = {
  name: 'ResourcesFit',
  filter(ctx, cluster) {
    const cap = ctx.capacity(cluster);
    let sig = demandSig.get(ctx.demand);
    if (sig === undefined) {
      sig = ctx.demandKeys.map((k) => `${k}=${ctx.demand[k] ?? 0}`).join(',');
      demandSig.set(ctx.demand, sig);
    }
    let memo = fitMemo.get(cap);
    const hit = memo?.get(sig);
    if (hit !== undefined) return hit;
    const result = fitResult(cap, ctx.demand, ctx.demandKeys);
    if (!memo) fitMemo.set(cap, (memo = new Map()));
    memo.set(sig, result);
    return result;
  },
};

/**
 * Summaries are rebuilt (new objects) whenever a cluster's heartbeat or reservations change, so the answer
 * (and its reason text) for one demand holds as long as the summary does. Without it every decision scanned up to every node of
 * every cluster: most jobs of a burst share a few shapes, and nodes fill front to back, so the scan grew as
 * they filled (the largest share of the scheduler's CPU in bench:scheduler).
 */
const fitMemo = new WeakMap<CapacitySummary, Map<string, FilterResult>>();
const demandSig = new WeakMap<Resources, string>();

/** The answer for one demand on one summary: depends on nothing else. */
function fitResult(cap: CapacitySummary, demand: Resources, keys: readonly string[]): FilterResult {
  for (const key of keys) {
    const need = demand[key] ?? 0;
    const largest = cap.largest[key] ?? 0;
    if (need > largest + 1e-9) return reject(`insufficient ${key} (need ${formatAmount(need)}, largest free ${formatAmount(largest)})`);
  }
  if (cap.nodes.some((n) => replicasFitting(n.free, demand, keys) > 0)) return OK;
  const wanted = keys.map((k) => `${k} ${formatAmount(demand[k] ?? 0)}`).join(', ');
  return reject(`no single node fits one replica (needs ${wanted})`);
}

/**
 * Free capacity: free cpus + 10 × free gpus summed over nodes (the reference's
 * weighting, applied to what is free after reservations). A cluster with
 * nothing free scores a tiny epsilon so that preference weight still orders it.
 */
export const freeCapacityScore: ScorePlugin = {
  name: 'FreeCapacity',
  score(ctx, cluster) {
    const total = ctx.capacity(cluster).total;
    return Math.max((total['cpus'] ?? 0) + 10 * (total['gpus'] ?? 0), 1e-6);
  },
};
