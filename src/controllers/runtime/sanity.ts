import { type Job } from '../../api/index.js';
/**
 * Is a Job safe to work on? The API rejects oversized or malformed jobs
 * (DESIGN 17), but a controller must not trust that: an object may have been
 * stored by an older version, restored from a backup or written straight into
 * the store. `replicas: 1e308` aborted V8 in the scheduler (arrays sized by
 * replicas), and every restart died again on the same stored job.
 *
 * So every controller asks jobProblem() before doing work proportional to a
 * job. The checks cost O(size of the object) and allocate nothing in
 * proportion to any number in it. The answer names the field and never quotes
 * a value (env values may be secrets; the object may be huge).
 */

export interface JobLimits {
  /** Largest `spec.replicas` accepted (the API's limit; default 10,000). */
  maxReplicas: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = { maxReplicas: 10_000 };

/** Env limits match the API's (DESIGN 17): a value over this, or with a NUL, cannot reach a process anyway. */
const MAX_ENV_VALUE_BYTES = 128 * 1024;
const MAX_ENV_COUNT = 1_000;
const MAX_ENV_TOTAL_BYTES = 1024 * 1024;
const MAX_RESOURCE_KEYS = 64;
/** Far above any machine (1e12 cpus, or MiB = 1 EiB); keeps sums of many replicas' demands finite and exact enough. */
const MAX_RESOURCE_AMOUNT = 1e12;
/** Placement terms walked per decision; far above any real job. */
const MAX_TERMS = 1_000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const RESTART_POLICIES = new Set(['Never', 'OnFailure', 'Always']);

const cache = new WeakMap<object, string | null>();

/** Why the job must not be worked on (`field: rule`), or undefined when it is sane. Cached per object copy. */
export function jobProblem(job: Job, limits: JobLimits = DEFAULT_JOB_LIMITS): string | undefined {
  if (!isObject(job)) return 'object: not an object';
  const hit = cache.get(job);
  if (hit !== undefined) return hit ?? undefined;
  const problem = check(job, limits);
  cache.set(job, problem ?? null);
  return problem;
}

function check(job: Job, limits: JobLimits): string | undefined {
  const meta: unknown = job.metadata;
  if (!isObject(meta) || typeof meta.name !== 'string' || meta.name === '') return 'metadata.name: missing';
  if (meta.labels !== undefined && !isStringMap(meta.labels)) return 'metadata.labels: must map names to strings';
  const spec: unknown = job.spec;
  if (!isObject(spec)) return 'spec: must be an object';
  const replicas = spec.replicas ?? 1;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > limits.maxReplicas) {
    return `spec.replicas: must be an integer from 1 to ${limits.maxReplicas}`;
  }
  if (spec.run !== undefined && typeof spec.run !== 'string') return 'spec.run: must be a string';
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.has(spec.restartPolicy as string)) return 'spec.restartPolicy: must be Never, OnFailure or Always';
  for (const field of ['priority', 'maxPendingSeconds'] as const) {
    const v = spec[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return `spec.${field}: must be a finite number`;
  }
  return resourcesProblem(spec.resources) ?? envsProblem(spec.envs) ?? placementProblem(spec.placement) ?? statusProblem(job.status, replicas);
}

/** Only the status part of jobProblem; ranks are bounded by the spec's replicas when those are sane. */
export function statusProblemOf(job: Job, limits: JobLimits = DEFAULT_JOB_LIMITS): string | undefined {
  const replicas = (job.spec as { replicas?: unknown } | undefined)?.replicas ?? 1;
  const bound = typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 1 && replicas <= limits.maxReplicas ? replicas : limits.maxReplicas;
  return statusProblem(job.status, bound);
}

function resourcesProblem(resources: unknown): string | undefined {
  if (resources === undefined) return undefined;
  if (!isObject(resources)) return 'spec.resources: must be an object';
  const keys = Object.keys(resources);
  if (keys.length > MAX_RESOURCE_KEYS) return `spec.resources: more than ${MAX_RESOURCE_KEYS} keys`;
  for (const k of keys) {
    if (FORBIDDEN_KEYS.has(k)) return `spec.resources: key '${k}' is not allowed`;
    const v = resources[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_RESOURCE_AMOUNT)
      return `spec.resources.${short(k)}: must be a number from 0 to ${MAX_RESOURCE_AMOUNT}`;
  }
  return undefined;
}

function envsProblem(envs: unknown): string | undefined {
  if (envs === undefined) return undefined;
  if (!isObject(envs)) return 'spec.envs: must be an object';
  const keys = Object.keys(envs);
  if (keys.length > MAX_ENV_COUNT) return `spec.envs: more than ${MAX_ENV_COUNT} variables`;
  let total = 0;
  for (const k of keys) {
    if (!ENV_NAME.test(k)) return `spec.envs: invalid variable name '${short(k)}'`;
    const v = envs[k];
    if (typeof v !== 'string') return `spec.envs.${short(k)}: must be a string`;
    // UTF-16 length bounds the UTF-8 size from below; a cheap first cut before counting bytes.
    const bytes = v.length > MAX_ENV_VALUE_BYTES ? v.length : Buffer.byteLength(v);
    if (bytes > MAX_ENV_VALUE_BYTES) return `spec.envs.${short(k)}: value longer than ${MAX_ENV_VALUE_BYTES / 1024} KiB`;
    if (v.includes('\u0000')) return `spec.envs.${short(k)}: value contains a NUL byte`;
    total += bytes + k.length;
    if (total > MAX_ENV_TOTAL_BYTES) return `spec.envs: more than ${MAX_ENV_TOTAL_BYTES / 1024 / 1024} MiB in total`;
  }
  return undefined;
}

function placementProblem(placement: unknown): string | undefined {
  if (placement === undefined) return undefined;
  if (!isObject(placement)) return 'spec.placement: must be an object';
  for (const field of ['filters', 'preferences'] as const) {
    const list = placement[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `spec.placement.${field}: must be a list`;
    if (list.length > MAX_TERMS) return `spec.placement.${field}: more than ${MAX_TERMS} terms`;
    for (let i = 0; i < list.length; i++) {
      const term: unknown = list[i];
      if (!isObject(term)) return `spec.placement.${field}[${i}]: must be an object`;
      if (term.matchLabels !== undefined && !isStringMap(term.matchLabels)) return `spec.placement.${field}[${i}].matchLabels: must map names to strings`;
      if (term.matchExpressions !== undefined && (!Array.isArray(term.matchExpressions) || term.matchExpressions.length > MAX_TERMS)) {
        return `spec.placement.${field}[${i}].matchExpressions: must be a list of at most ${MAX_TERMS}`;
      }
      if (field === 'preferences' && term.weight !== undefined && (typeof term.weight !== 'number' || !Number.isFinite(term.weight))) {
        return `spec.placement.preferences[${i}].weight: must be a finite number`;
      }
    }
  }
  return undefined;
}

/** The status fields the controllers compute with: placements and restarts must be what they claim to be. */
function statusProblem(status: unknown, replicas: number): string | undefined {
  if (status === undefined || status === null) return undefined;
  if (!isObject(status)) return 'status: must be an object';
  if (status.phase !== undefined && typeof status.phase !== 'string') return 'status.phase: must be a string';
  if (status.conditions !== undefined && !Array.isArray(status.conditions)) return 'status.conditions: must be a list';
  const placements = status.placements;
  if (placements !== undefined) {
    if (!isObject(placements)) return 'status.placements: must be an object';
    for (const [cluster, ranks] of Object.entries(placements)) {
      if (!Array.isArray(ranks) || ranks.length > replicas) return `status.placements.${short(cluster)}: must be a list of at most ${replicas} ranks`;
      for (const r of ranks)
        if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r >= replicas) return `status.placements.${short(cluster)}: rank out of range`;
    }
  }
  for (const field of ['taskStatus', 'replicaStatus', 'jobIds', 'restarts'] as const) {
    const v = status[field];
    if (v !== undefined && !isObject(v)) return `status.${field}: must be an object`;
  }
  if (isObject(status.taskStatus)) {
    for (const [cluster, tasks] of Object.entries(status.taskStatus)) if (!isObject(tasks)) return `status.taskStatus.${short(cluster)}: must be an object`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** A key as it may appear in a message: names are user-chosen, so bounded and stripped of control characters. */
function short(key: string): string {
  const clean = key.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}
