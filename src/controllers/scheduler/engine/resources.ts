/**
 * Resource arithmetic. GPU accounting rule (DESIGN 7.2, "gpus means any GPU
 * type; a typed key needs that type"): nodes report `gpus` (total) plus one
 * key per GPU type, e.g. {gpus: 4, A100: 4}. A request for `A100: 2` therefore
 * consumes 2 of `A100` AND 2 of `gpus`, so a later untyped `gpus` request can
 * not take the same devices; a request for `gpus: 2` consumes `gpus` only.
 * A node that reports typed keys but no `gpus` total is treated as having the
 * sum of its typed keys.
 */
import type { NodeResources, Resources } from './types.js';

export const BASE_KEYS: ReadonlySet<string> = new Set(['cpus', 'memory', 'disk', 'gpus']);
/** Order reasons are reported in, so messages are stable. */
const KEY_ORDER = ['cpus', 'memory', 'disk', 'gpus'];

export function isGpuType(key: string): boolean {
  return !BASE_KEYS.has(key);
}

/** What one replica takes from a node: the request with zeros dropped and typed GPUs also counted in `gpus`. */
export function demandOf(request: Resources): Resources {
  const demand: Resources = {};
  let typed = 0;
  for (const [key, value] of Object.entries(request)) {
    if (!(value > 0)) continue;
    demand[key] = value;
    if (isGpuType(key)) typed += value;
  }
  // max, not sum: {gpus: 2, A100: 2} reads as "two GPUs, and they are A100s".
  if (typed > 0) demand['gpus'] = Math.max(demand['gpus'] ?? 0, typed);
  return demand;
}

/** Keys of a demand in report order: base keys first, then GPU types by name. */
export function orderedKeys(demand: Resources): string[] {
  const keys = KEY_ORDER.filter((k) => k in demand);
  const typed = Object.keys(demand).filter(isGpuType).sort();
  return [...keys, ...typed];
}

/** A node's allocatable as a full vector: `gpus` filled from typed keys when absent. */
export function normalizeNode(alloc: Resources): Resources {
  const out: Resources = {};
  let typed = 0;
  for (const [key, value] of Object.entries(alloc)) {
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    out[key] = v;
    if (isGpuType(key)) typed += v;
  }
  if (!('gpus' in out) && typed > 0) out['gpus'] = typed;
  return out;
}

export function addInto(target: Resources, delta: Resources, sign = 1): void {
  for (const [key, value] of Object.entries(delta)) {
    const next = (target[key] ?? 0) + sign * value;
    // Float drift from repeated add/subtract must not leave 1e-16 ghosts.
    if (Math.abs(next) < 1e-9) delete target[key];
    else target[key] = next;
  }
}

export function sumNodes(nodes: NodeResources): Resources {
  const total: Resources = {};
  for (const node of Object.values(nodes)) addInto(total, node);
  return total;
}

/** How many replicas of `demand` fit into `free` (Infinity for an empty demand). */
export function replicasFitting(free: Resources, demand: Resources, keys: readonly string[]): number {
  let n = Infinity;
  for (const key of keys) {
    const need = demand[key] ?? 0;
    if (need <= 0) continue;
    // Small epsilon so 0.3 cpus free fits a 0.1+0.2 request.
    const k = Math.floor(((free[key] ?? 0) + 1e-9) / need);
    if (k < n) n = k;
    if (n <= 0) return 0;
  }
  return n;
}

export function formatAmount(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}
