/** Pending-queue order (DESIGN 7.5): priority desc, then creation time asc, then namespace/name for a total order. */
export interface Queued {
  namespace: string;
  name: string;
  priority?: number;
  creationTimestamp?: string;
}

const time = (ts: string | undefined) => {
  const t = ts === undefined ? NaN : Date.parse(ts);
  // Unknown creation time sorts last: such jobs should not jump the queue.
  return Number.isNaN(t) ? Infinity : t;
};

export function comparePending(a: Queued, b: Queued): number {
  const p = (b.priority ?? 0) - (a.priority ?? 0);
  if (p !== 0) return p;
  const ta = time(a.creationTimestamp);
  const tb = time(b.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function sortPending<T extends Queued>(jobs: readonly T[]): T[] {
  return [...jobs].sort(comparePending);
}
