/**
 * A Job's size limits (DESIGN section 17): replicas, env and the strings that
 * reach exec. A job over them would be stored, then fail or stall every
 * controller that handles it, so it is refused at the door instead.
 */
import type { Cause } from '../errors.js';
import { formatBytes, utf8Bytes, type Limits } from '../limits.js';

const NUL = '\u0000';

export function checkJobLimits(obj: Record<string, any>, causes: Cause[], lim: Readonly<Limits>): void {
  const spec = obj.spec;
  if (spec === null || typeof spec !== 'object') return;
  if (typeof spec.replicas === 'number' && spec.replicas > lim.maxReplicas) {
    causes.push({ field: 'spec.replicas', message: `must be <= ${lim.maxReplicas} (the server's maximum), got ${spec.replicas}` });
  }
  // NUL cannot be passed to exec (Node throws on it), so the job could never start.
  if (typeof spec.run === 'string' && spec.run.includes(NUL)) {
    causes.push({ field: 'spec.run', message: 'must not contain a NUL character' });
  }
  checkEnvs(spec.envs, causes, lim);
  if (spec.volumes && typeof spec.volumes === 'object') {
    for (const [name, volume] of Object.entries(spec.volumes as Record<string, any>)) {
      for (const field of ['containerDir', 'hostDir']) {
        const v = volume?.[field];
        if (typeof v === 'string' && v.includes(NUL)) {
          causes.push({ field: `spec.volumes.${name}.${field}`, message: 'must not contain a NUL character' });
        }
      }
    }
  }
}

/** Before the walk: a map of 100,000 envs costs one count here, not a sort, a copy and a cause per entry. */
export function checkJobCounts(input: Record<string, any>, causes: Cause[], lim: Readonly<Limits>): void {
  const envs = input.spec?.envs;
  if (envs === null || typeof envs !== 'object') return;
  const n = Object.keys(envs).length;
  if (n > lim.maxEnvs) causes.push({ field: 'spec.envs', message: `must have at most ${lim.maxEnvs} entries, got ${n}` });
}

function checkEnvs(envs: unknown, causes: Cause[], lim: Readonly<Limits>): void {
  if (envs === null || typeof envs !== 'object') return;
  const entries = Object.entries(envs as Record<string, unknown>);
  if (entries.length > lim.maxEnvs) {
    causes.push({ field: 'spec.envs', message: `must have at most ${lim.maxEnvs} entries, got ${entries.length}` });
    return;
  }
  let total = 0;
  for (const [name, value] of entries) {
    if (typeof value !== 'string') continue; // the schema reports it
    const field = `spec.envs.${name}`;
    if (value.includes(NUL)) {
      causes.push({ field, message: 'must not contain a NUL character' });
      continue;
    }
    // What exec sees: `NAME=value` and a terminating NUL.
    const bytes = utf8Bytes(name) + 1 + utf8Bytes(value) + 1;
    total += bytes;
    if (bytes > lim.maxEnvEntryBytes) {
      causes.push({
        field,
        message: `value is too long: NAME=value must fit in ${formatBytes(lim.maxEnvEntryBytes)} (Linux's limit on one environment string), got ${bytes} bytes`,
      });
    }
  }
  if (total > lim.maxEnvTotalBytes) {
    causes.push({ field: 'spec.envs', message: `entries must total at most ${formatBytes(lim.maxEnvTotalBytes)}, got ${total} bytes` });
  }
}
