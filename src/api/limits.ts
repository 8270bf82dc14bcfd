/**
 * Size limits on everything a client controls (DESIGN section 17), in one
 * place so the docs, the checks and the operator's overrides agree. Each limit
 * is checked before work proportional to the value: a body over a limit is
 * refused with a 4xx naming the field, never stored for a controller to choke on.
 *
 * Only `maxReplicas` is meant to be tuned (`createApiServer({limits})`); the
 * others are fixed by what downstream code and the OS can take.
 */

export interface Limits {
  /** spec.replicas of a Job. Controllers hold per-replica state, so this bounds their memory. */
  maxReplicas: number;
  /** Entries in metadata.labels (each key and value is already bounded by the label rules). */
  maxLabels: number;
  /** metadata.annotations: UTF-8 bytes of all keys and values together (Kubernetes' limit). */
  maxAnnotationsBytes: number;
  /** Entries in a Job's spec.envs. */
  maxEnvs: number;
  /**
   * One `NAME=value` entry in UTF-8 bytes plus its terminating NUL: Linux refuses
   * to exec with a longer environment string (MAX_ARG_STRLEN, 128 KiB).
   */
  maxEnvEntryBytes: number;
  /** All env entries together; leaves room for argv within Linux's ARG_MAX (2 MiB by default). */
  maxEnvTotalBytes: number;
  /** Keys in a resources map (cpus, memory, disk, gpus and accelerator types). */
  maxResourceKeys: number;
  /** Any one resource amount; real requests are orders of magnitude below. */
  maxResourceAmount: number;
  /** Nesting of objects and lists in a body (a Job is about 7 deep). */
  maxDepth: number;
  /**
   * Object keys plus list items in a decoded body, aliases counted as expanded.
   * Every stage (parse, merge, size check, validation) costs ~0.3 µs a node, so
   * 50,000 keeps one request's work near 60 ms; it still fits the status of a
   * cluster of ~3,500 nodes (capacity and allocatable per node).
   */
  maxBodyNodes: number;
  /**
   * Lexical tokens in a YAML body. YAML parsing costs about 1 µs a token, so
   * this keeps the parse under ~50 ms; a Job manifest is a few hundred tokens,
   * a key-value line about 8 (so roughly 6,000 keys).
   */
  maxYamlTokens: number;
  /**
   * Bytes of a YAML body (JSON bodies may use the whole 1.5 MiB). Manifests are
   * a few KiB; lexing and composing a megabyte of YAML costs ~100 ms before any
   * token or alias limit can tell, so big objects come as JSON.
   */
  maxYamlBytes: number;
  /** Size of a decoded body with YAML aliases expanded, and of a patched object (JSON characters). */
  maxExpandedBytes: number;
  /** Operations in one JSON patch. */
  maxPatchOps: number;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxReplicas: 10_000,
  maxLabels: 64,
  maxAnnotationsBytes: 256 * KiB,
  maxEnvs: 1_000,
  maxEnvEntryBytes: 128 * KiB,
  maxEnvTotalBytes: 512 * KiB,
  maxResourceKeys: 32,
  maxResourceAmount: 1e9,
  maxDepth: 64,
  maxBodyNodes: 50_000,
  maxYamlTokens: 50_000,
  maxYamlBytes: 1 * MiB,
  maxExpandedBytes: 3 * MiB,
  maxPatchOps: 1_000,
});

let current: Limits = { ...DEFAULT_LIMITS };

/** The limits in force (process-wide: one API server per process). */
export function limits(): Readonly<Limits> {
  return current;
}

/**
 * Override limits (the operator's `--max-replicas`); unspecified ones keep their
 * defaults. Returns the previous limits so tests can restore them.
 */
export function setLimits(overrides: Partial<Limits>): Limits {
  const before = current;
  const next: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as [keyof Limits, number | undefined][]) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`limit ${key} must be a positive integer, got ${value}`);
    next[key] = value;
  }
  current = next;
  return before;
}

/** UTF-8 byte length without allocating a buffer. */
export function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 2; // a surrogate pair: 4 bytes for 2 code units
      i++;
    } else n += 2;
  }
  return n;
}

/** `131072` -> `128 KiB` for messages. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}
