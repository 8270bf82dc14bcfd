import { filterMatches } from '../labels.js';
import { OK, reject, type FilterPlugin } from '../plugin.js';

/** With placement filters, a cluster must match at least one of them (OR across filters, AND within). */
export const placementFiltersFilter: FilterPlugin = {
  name: 'PlacementFilters',
  filter(ctx, cluster) {
    const filters = ctx.job.placement?.filters ?? [];
    if (filters.length === 0) return OK;
    if (filters.some((f) => filterMatches(f, cluster.labels))) return OK;
    return reject(`does not match placement filters (${filters.map((f) => f.name).join(', ')})`);
  },
};
