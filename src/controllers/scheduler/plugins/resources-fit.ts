import { OK, reject, type FilterPlugin, type ScorePlugin } from '../plugin.js';
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
    for (const key of ctx.demandKeys) {
      const need = ctx.demand[key] ?? 0;
      const largest = cap.largest[key] ?? 0;
      if (need > largest + 1e-9) return reject(`insufficient ${key} (need ${formatAmount(need)}, largest free ${formatAmount(largest)})`);
    }
    if (anyNodeFits(cap, ctx.demand, ctx.demandKeys)) return OK;
    const wanted = ctx.demandKeys.map((k) => `${k} ${formatAmount(ctx.demand[k] ?? 0)}`).join(', ');
    return reject(`no single node fits one replica (needs ${wanted})`);
  },
};

/**
 * Summaries are rebuilt (new objects) whenever a cluster's heartbeat or reservations change, so the answer
 * for one demand holds as long as the summary does. Without it every decision scanned up to every node of
 * every cluster: most jobs of a burst share a few shapes, and nodes fill front to back, so the scan grew as
 * they filled (the largest share of the scheduler's CPU in bench:scheduler).
 */
const fitMemo = new WeakMap<CapacitySummary, Map<string, boolean>>();
const demandSig = new WeakMap<Resources, string>();

function anyNodeFits(cap: CapacitySummary, demand: Resources, keys: readonly string[]): boolean {
  let sig = demandSig.get(demand);
  if (sig === undefined) {
    sig = keys.map((k) => `${k}=${demand[k] ?? 0}`).join(',');
    demandSig.set(demand, sig);
  }
  let memo = fitMemo.get(cap);
  const hit = memo?.get(sig);
  if (hit !== undefined) return hit;
  const fits = cap.nodes.some((n) => replicasFitting(n.free, demand, keys) > 0);
  if (!memo) fitMemo.set(cap, (memo = new Map()));
  memo.set(sig, fits);
  return fits;
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
