import { filterMatches } from '../labels.js';
import type { ScorePlugin } from '../plugin.js';

/**
 * Highest weight among the job's matching preferences. No preferences: 100
 * for every cluster. Preferences given but none matching: weight 0 — the
 * cluster stays eligible but ranks after every preferred one.
 */
export const preferenceScore: ScorePlugin = {
  name: 'Preferences',
  score(ctx, cluster) {
    const prefs = ctx.job.placement?.preferences ?? [];
    if (prefs.length === 0) return 100;
    let best = 0;
    for (const p of prefs) if (p.weight > best && filterMatches(p, cluster.labels)) best = p.weight;
    return best;
  },
};
