/**
 * Resource quantities. Canonical units: cpus (cores, may be fractional),
 * memory and disk in MiB, gpus and accelerator types (A100, T4, ...) as counts.
 *
 * Memory suffixes are all binary, as in the Python SkyShift (`2G` = `2Gi` =
 * `2GB` = 2048 MiB): users write `G` meaning GiB far more often than they mean
 * 10^9 bytes, and manifests written for the original must keep their meaning.
 * Unlike the original, a bare numeric string is MiB, the same as a number.
 */
import { ApiError, type Cause } from './errors.js';
import { limits } from './limits.js';

/** Resource keys with a fixed meaning; anything else that looks like a name is an accelerator type. */
export const CANONICAL_RESOURCES = ['cpus', 'memory', 'disk', 'gpus'] as const;
export type CanonicalResource = (typeof CANONICAL_RESOURCES)[number];

// A Map, not an object literal: `ALIASES['constructor']` on a literal finds Object's own.
const ALIASES = new Map<string, CanonicalResource>([
  ['cpus', 'cpus'],
  ['cpu', 'cpus'],
  ['memory', 'memory'],
  ['disk', 'disk'],
  ['gpus', 'gpus'],
  ['gpu', 'gpus'],
]);

/** An accelerator type: a name of at most 63 characters, as a GPU model is written (A100, T4, RTX_4090). */
const ACCELERATOR_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * Names that would reach Object.prototype (`constructor`, `toString`...) where
 * resources are kept in plain objects downstream: never a resource.
 */
const RESERVED_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype'].map((k) => k.toLowerCase()));

/** Quantity strings longer than this are not quantities; they are not parsed or echoed. */
const MAX_QUANTITY_CHARS = 64;

function unitError(field: string, message: string): ApiError {
  return new ApiError('Invalid', `${field}: ${message}`, { causes: [{ field, message }] });
}

// Multipliers to MiB, keyed by the upper-cased unit letter.
const MEMORY_UNITS: Record<string, number> = {
  B: 1 / (1024 * 1024),
  K: 1 / 1024,
  M: 1,
  G: 1024,
  T: 1024 ** 2,
  P: 1024 ** 3,
  E: 1024 ** 4,
};
const MEMORY_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:([KMGTPE])(?:i?B?)|(B))?\s*$/i;
const MEMORY_HINT = 'must be a number of MiB or a quantity like 512Mi, 2Gi, 2GB or 1.5T';

/** Memory or disk -> MiB. Numbers are MiB; strings may carry a unit. Throws ApiError('Invalid') naming `field`. */
export function parseMemory(value: number | string, field: string): number {
  let mib: number;
  if (typeof value === 'number') {
    mib = value;
  } else if (typeof value === 'string') {
    const m = MEMORY_RE.exec(value);
    if (!m) {
      const neg = /^\s*-/.test(value);
      throw unitError(field, neg ? 'must not be negative' : `invalid quantity "${value}": ${MEMORY_HINT}`);
    }
    const unit = (m[2] ?? m[3] ?? 'M').toUpperCase();
    mib = Number(m[1]) * (MEMORY_UNITS[unit] ?? 1);
  } else {
    throw unitError(field, MEMORY_HINT);
  }
  if (!Number.isFinite(mib)) throw unitError(field, MEMORY_HINT);
  if (mib < 0) throw unitError(field, 'must not be negative');
  return mib;
}

const FORMAT_UNITS: [string, number][] = [
  ['Pi', 1024 ** 3],
  ['Ti', 1024 ** 2],
  ['Gi', 1024],
  ['Mi', 1],
  ['Ki', 1 / 1024],
];

function trimNumber(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** MiB -> the shortest readable binary quantity: 2048 -> `2Gi`, 1536 -> `1.5Gi`, 512 -> `512Mi`. */
export function formatMemory(mib: number): string {
  if (mib === 0) return '0';
  const abs = Math.abs(mib);
  for (const [unit, size] of FORMAT_UNITS) {
    if (abs >= size) return `${trimNumber(mib / size)}${unit}`;
  }
  return `${Math.round(mib * 1024 * 1024)}B`;
}

const CPU_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(m?)\s*$/;

/** CPU cores: a number, `2`, `1.5` or Kubernetes millicores `500m`. */
export function parseCpus(value: number | string, field: string): number {
  let cpus: number;
  if (typeof value === 'number') {
    cpus = value;
  } else if (typeof value === 'string') {
    const m = CPU_RE.exec(value);
    if (!m) {
      if (/^\s*-/.test(value)) throw unitError(field, 'must not be negative');
      throw unitError(field, `invalid quantity "${value}": must be a number of cores like 2, 0.5 or 500m`);
    }
    cpus = Number(m[1]) / (m[2] ? 1000 : 1);
  } else {
    throw unitError(field, 'must be a number of cores like 2, 0.5 or 500m');
  }
  if (!Number.isFinite(cpus)) throw unitError(field, 'must be a number of cores like 2, 0.5 or 500m');
  if (cpus < 0) throw unitError(field, 'must not be negative');
  return cpus;
}

function parseCount(value: unknown, field: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw unitError(field, 'must be a number');
  if (n < 0) throw unitError(field, 'must not be negative');
  return n;
}

/**
 * `cpu`/`CPUS` -> `cpus`, `gpu` -> `gpus`; accelerator types keep their case
 * (`A100`, `T4`). Undefined when the key cannot be a resource name.
 */
export function canonicalResourceKey(key: string): string | undefined {
  const alias = ALIASES.get(key.toLowerCase());
  if (alias) return alias;
  return isAcceleratorKey(key) ? key : undefined;
}

export function isAcceleratorKey(key: string): boolean {
  const lower = key.toLowerCase();
  return !ALIASES.has(lower) && ACCELERATOR_KEY.test(key) && !RESERVED_KEYS.has(lower);
}

/** One resource amount in canonical units. */
export function parseResource(key: CanonicalResource | string, value: unknown, field: string): number {
  if (typeof value === 'string' && value.length > MAX_QUANTITY_CHARS) {
    throw unitError(field, `must be a quantity of at most ${MAX_QUANTITY_CHARS} characters, got ${value.length}`);
  }
  const amount = parseAmount(key, value, field);
  const max = limits().maxResourceAmount;
  if (amount > max) throw unitError(field, `must be at most ${max}${key === 'memory' || key === 'disk' ? ' MiB' : ''}`);
  return amount;
}

function parseAmount(key: string, value: unknown, field: string): number {
  if (key === 'memory' || key === 'disk') {
    if (typeof value !== 'number' && typeof value !== 'string') throw unitError(field, MEMORY_HINT);
    return parseMemory(value, field);
  }
  if (key === 'cpus') {
    if (typeof value !== 'number' && typeof value !== 'string') throw unitError(field, 'must be a number of cores like 2, 0.5 or 500m');
    return parseCpus(value, field);
  }
  return parseCount(value, field);
}

/**
 * A resource request -> canonical keys and units with zero amounts dropped.
 * `gpus` (any type) and a typed key (`A100`) may both be given: the scheduler
 * reads `gpus` as "this many of any type" and `A100` as "this many A100s".
 * Throws ApiError('Invalid') with one cause per bad entry.
 */
export function normalizeResources(input: unknown, field: string): Record<string, number> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw unitError(field, 'must be an object of resource amounts, e.g. {cpus: 2, memory: 4Gi}');
  }
  const entries = Object.entries(input as Record<string, unknown>);
  const maxKeys = limits().maxResourceKeys;
  if (entries.length > maxKeys) throw unitError(field, `must have at most ${maxKeys} entries, got ${entries.length}`);
  const out: Record<string, number> = {};
  const seen = new Map<string, string>();
  const causes: Cause[] = [];
  for (const [rawKey, value] of entries) {
    const path = `${field}.${rawKey}`;
    const key = canonicalResourceKey(rawKey);
    if (key === undefined) {
      causes.push({ field: path, message: 'invalid resource name: use cpus, memory, disk, gpus or a GPU type such as A100' });
      continue;
    }
    const before = seen.get(key);
    if (before !== undefined) {
      causes.push({ field: path, message: `specified twice (${before} and ${rawKey})` });
      continue;
    }
    seen.set(key, rawKey);
    try {
      const amount = parseResource(key, value, path);
      if (amount !== 0) out[key] = amount;
    } catch (err) {
      if (err instanceof ApiError && err.details?.causes) causes.push(...err.details.causes);
      else throw err;
    }
  }
  if (causes.length > 0) {
    throw new ApiError('Invalid', causes.map((c) => `${c.field}: ${c.message}`).join('; '), { causes });
  }
  return sortResources(out);
}

/** Canonical keys first in a fixed order, then GPU types by name: one serialisation per request. */
export function sortResources(resources: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of CANONICAL_RESOURCES) if (resources[k] !== undefined) out[k] = resources[k];
  for (const k of Object.keys(resources).sort()) if (out[k] === undefined) out[k] = resources[k] as number;
  return out;
}

/** `cpus: 2, memory: 4Gi, A100: 1` style one-line summary for tables and messages. */
export function formatResources(resources: Record<string, number>): string {
  return Object.entries(resources)
    .map(([k, v]) => `${k}: ${k === 'memory' || k === 'disk' ? formatMemory(v) : trimNumber(v)}`)
    .join(', ');
}
