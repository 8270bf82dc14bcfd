/** Key-range and label helpers shared by the backends. */
import { matchesLabels, type LabelSelector } from '../api/index.js';
import type { JsonObject } from './types.js';

/**
 * The smallest key greater than every key starting with `prefix` (etcd's
 * range_end convention), so a prefix scan is a plain `key >= p AND key < end`.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** Labels live at metadata.labels; anything malformed counts as "no labels". */
export function labelsOf(value: JsonObject): Record<string, string> | undefined {
  const metadata = value['metadata'];
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const labels = (metadata as Record<string, unknown>)['labels'];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return undefined;
  return labels as Record<string, string>;
}

export function selectorAccepts(selector: LabelSelector | undefined, value: JsonObject): boolean {
  if (selector === undefined || selector.length === 0) return true;
  return matchesLabels(selector, labelsOf(value));
}
