import { OK, reject, type FilterPlugin, type ScorePlugin } from '../plugin.js';
import { formatAmount, replicasFitting } from '../resources.js';

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
    if (cap.nodes.some((n) => replicasFitting(n.free, ctx.demand, ctx.demandKeys) > 0)) return OK;
    const wanted = ctx.demandKeys.map((k) => `${k} ${formatAmount(ctx.demand[k] ?? 0)}`).join(', ');
    return reject(`no single node fits one replica (needs ${wanted})`);
  },
};

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
