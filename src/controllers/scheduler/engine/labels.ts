/** Label matching for placement filters and preferences (DESIGN 3, Job.placement). */
import type { MatchExpression, PlacementFilter } from './types.js';

export function expressionHolds(expr: MatchExpression, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, expr.key);
  const values = expr.values ?? [];
  switch (expr.operator) {
    case 'In':
      return has && values.includes(labels[expr.key] as string);
    case 'NotIn':
      return !has || !values.includes(labels[expr.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      // Unknown operators never match: safer to reject than to place wrongly.
      return false;
  }
}

/** Every matchLabels pair and every expression must hold. */
export function filterMatches(filter: PlacementFilter, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(filter.matchLabels ?? {})) {
    if (l[key] !== value || !Object.hasOwn(l, key)) return false;
  }
  for (const expr of filter.matchExpressions ?? []) if (!expressionHolds(expr, l)) return false;
  return true;
}

/** selector ⊆ labels; an empty selector matches everything. */
export function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector ?? {})) if (!Object.hasOwn(l, key) || l[key] !== value) return false;
  return true;
}
