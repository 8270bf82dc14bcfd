/**
 * Resource amounts as people read them. Memory and disk are MiB on the wire
 * (DESIGN §3) and shown with binary units; counts are shown as plain numbers.
 */
const ORDER = ['cpus', 'memory', 'disk', 'gpus'];
const SIZE_KEYS = new Set(['memory', 'disk']);

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

export function formatMiB(mib: number): string {
  if (mib >= 1024 * 1024) return `${round(mib / (1024 * 1024))}Ti`;
  if (mib >= 1024) return `${round(mib / 1024)}Gi`;
  return `${round(mib)}Mi`;
}

export function formatAmount(key: string, value: number): string {
  return SIZE_KEYS.has(key) ? formatMiB(value) : round(value);
}

/** cpus, memory, disk, gpus first, then accelerator types alphabetically. */
export function orderedKeys(keys: Iterable<string>): string[] {
  const set = [...new Set(keys)];
  const known = ORDER.filter((k) => set.includes(k));
  return [...known, ...set.filter((k) => !ORDER.includes(k)).sort()];
}

type PerNode = Record<string, Record<string, number>> | undefined;

function sumNodes(perNode: PerNode): Map<string, number> {
  const total = new Map<string, number>();
  for (const node of Object.values(perNode ?? {})) {
    for (const [k, v] of Object.entries(node ?? {})) if (typeof v === 'number') total.set(k, (total.get(k) ?? 0) + v);
  }
  return total;
}

/** `cpus: 3/4, memory: 6Gi/8Gi, gpus: 0/2` — allocatable/capacity summed over nodes; zero-capacity keys skipped. */
export function formatClusterResources(allocatable: PerNode, capacity: PerNode): string {
  const alloc = sumNodes(allocatable);
  const cap = sumNodes(capacity);
  const parts = orderedKeys([...cap.keys(), ...alloc.keys()])
    .filter((k) => (cap.get(k) ?? 0) > 0)
    .map((k) => `${k}: ${formatAmount(k, alloc.get(k) ?? 0)}/${formatAmount(k, cap.get(k) ?? 0)}`);
  return parts.length ? parts.join(', ') : '<none>';
}

/** `cpus: 1, memory: 512Mi` — non-zero per-replica requests. */
export function formatRequests(resources: Record<string, unknown> | undefined): string {
  const entries = Object.entries(resources ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] !== 0);
  const values = new Map(entries);
  const parts = orderedKeys(values.keys()).map((k) => `${k}: ${formatAmount(k, values.get(k) ?? 0)}`);
  return parts.length ? parts.join(', ') : '<none>';
}
