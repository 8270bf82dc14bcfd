import { OK, reject, type FilterPlugin } from '../plugin.js';

/** Only READY clusters take work (DESIGN 7.1). */
export const readyFilter: FilterPlugin = {
  name: 'Ready',
  filter(_ctx, cluster) {
    if (cluster.phase === 'READY') return OK;
    return reject(cluster.message ? `not READY (${cluster.phase}: ${cluster.message})` : `not READY (${cluster.phase})`);
  },
};
