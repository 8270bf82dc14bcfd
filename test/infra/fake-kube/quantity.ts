/** Kubernetes resource quantities (`500m`, `2`, `1Gi`, `1e3`, `128M`) as numbers, for the FAKE scheduler's arithmetic. */

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** The quantity's value, or undefined when it is not a valid quantity. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number' && Number.isFinite(q)) return q;
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? '']!;
}

/** Sums requests (falling back to limits, as the API server defaults requests from limits) of a pod's containers. */
export function podRequests(containers: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const c of containers) {
    const merged = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(merged)) sum[k] = (sum[k] ?? 0) + (parseQuantity(v) ?? 0);
  }
  return sum;
}
