/**
 * Node inventory -> SkyShift resources. Both interfaces produce NodeInfo
 * (cli from `scontrol -d show node -o`, rest from /nodes); the arithmetic is
 * shared so they cannot disagree.
 */
import type { NodeResources, Resources } from '../types.js';
import { nodeAvailable } from './states.js';

export interface NodeInfo {
  name: string;
  state: string;
  flags: string[];
  cpus: number;
  cpusAlloc: number;
  /** MiB */
  memory: number;
  memoryAlloc: number;
  /** `gpu:a100:2,gpu:2(S:0)`-style Slurm GRES strings. */
  gres: string;
  gresUsed: string;
}

/** `scontrol -d show node -o`: one line per node of `Key=Value` pairs (values without spaces, except OS= which we do not read). */
export function parseScontrolNodes(text: string): NodeInfo[] {
  const out: NodeInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('NodeName=')) continue;
    const kv = new Map<string, string>();
    for (const m of line.matchAll(/(?:^|\s)([A-Za-z]+)=(\S*)/g)) if (m[1] && !kv.has(m[1])) kv.set(m[1], m[2] ?? '');
    out.push({
      name: kv.get('NodeName') ?? '',
      state: kv.get('State') ?? 'UNKNOWN',
      flags: [],
      cpus: num(kv.get('CPUTot')),
      cpusAlloc: num(kv.get('CPUAlloc')),
      memory: num(kv.get('RealMemory')),
      memoryAlloc: num(kv.get('AllocMem')),
      gres: kv.get('Gres') ?? '',
      gresUsed: kv.get('GresUsed') ?? '',
    });
  }
  return out;
}

function num(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/**
 * GPUs per type from a GRES string: `gpu:a100:2(S:0-1),gpu:t4:1,gpu:3` ->
 * {a100: 2, t4: 1, '': 3}; GresUsed also carries `(IDX:0-1)` suffixes.
 * Non-GPU GRES (nic, mps, shard) are not SkyShift resources and are skipped.
 */
export function parseGpuGres(gres: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!gres || gres === '(null)' || gres === 'N/A') return out;
  // Split on commas that are not inside parentheses.
  for (const part of gres.split(/,(?![^(]*\))/)) {
    const clean = part.replace(/\(.*\)$/, '').trim();
    const fields = clean.split(':');
    if (fields[0] !== 'gpu') continue;
    let type = '';
    let count: number;
    if (fields.length >= 3) {
      type = fields[1] ?? '';
      count = Number(fields[2]);
    } else {
      count = Number(fields[1] ?? '1');
    }
    if (!Number.isFinite(count)) continue;
    out.set(type, (out.get(type) ?? 0) + count);
  }
  return out;
}

/** SkyShift's canonical GPU type key: upper case (A100, H100, T4). */
export function gpuKey(slurmType: string): string {
  return slurmType.toUpperCase();
}

function gpuResources(counts: Map<string, number>): Resources {
  const r: Resources = {};
  let total = 0;
  for (const [type, n] of counts) {
    total += n;
    if (type) r[gpuKey(type)] = (r[gpuKey(type)] ?? 0) + n;
  }
  if (total > 0) r['gpus'] = total;
  return r;
}

/**
 * Capacity and allocatable per node. Nodes that cannot take work (DOWN,
 * DRAIN, NOT_RESPONDING...) are left out of BOTH: the scheduler treats
 * capacity as "could ever fit here", and a drained node will not run
 * anything until an administrator returns it, at which point it reappears.
 */
export function nodeResources(nodes: NodeInfo[]): { capacity: NodeResources; allocatable: NodeResources; unavailable: string[] } {
  const capacity: NodeResources = {};
  const allocatable: NodeResources = {};
  const unavailable: string[] = [];
  for (const n of nodes) {
    if (!nodeAvailable(n.state, n.flags)) {
      unavailable.push(`${n.name} (${n.state}${n.flags.length ? '+' + n.flags.join('+') : ''})`);
      continue;
    }
    const total = parseGpuGres(n.gres);
    const used = parseGpuGres(n.gresUsed);
    const free = new Map<string, number>();
    for (const [type, count] of total) {
      // Typed use is reported per type; untyped totals only as '' — subtract what matches.
      free.set(type, Math.max(0, count - (used.get(type) ?? 0)));
    }
    capacity[n.name] = { cpus: n.cpus, memory: n.memory, ...gpuResources(total) };
    allocatable[n.name] = {
      cpus: Math.max(0, n.cpus - n.cpusAlloc),
      memory: Math.max(0, n.memory - n.memoryAlloc),
      ...gpuResources(free),
    };
    // An all-used GPU node must still say gpus: 0, not drop the key.
    const cap = capacity[n.name];
    const alloc = allocatable[n.name];
    if (cap && alloc) for (const k of Object.keys(cap)) alloc[k] ??= 0;
  }
  return { capacity, allocatable, unavailable };
}
