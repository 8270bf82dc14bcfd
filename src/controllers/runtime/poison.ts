/**
 * Poison objects (DESIGN 17): a job a controller cannot handle — invalid
 * (sanity.ts), or one whose reconcile keeps failing — must not take the
 * process down or hold a queue or capacity. It is marked, once, with:
 *
 *  - phase FAILED and a condition `Failed` (status True) whose reason says why
 *    (`InvalidObject`, `ReconcileFailed`, `SubmitFailed`) and whose message
 *    names the field or the step — never a value of the object;
 *  - a Warning Event with the same reason and message.
 *
 * Why FAILED and not PENDING with a condition: FAILED is terminal, so every
 * controller drops the job at once (the scheduler releases its reservations,
 * skylets cancel whatever of it runs) and nothing ever works on it again. A
 * job is not re-run after FAILED (as in Kubernetes); the user fixes the spec
 * and creates it again, through an API that now validates it.
 *
 * The write sends metadata + status only: the spec of a poison job may be
 * larger than the API's body limit (a 2 MiB env value).
 */
import { ApiError, type ApiObject, type ObjectMeta, type SkyShiftClient } from '../../client/index.js';
import { getCondition, setCondition, type Job, type JobStatus } from '../../api/index.js';
import { errText } from './events.js';
import { statusProblemOf } from './sanity.js';

export type PoisonReason = 'InvalidObject' | 'ReconcileFailed' | 'SubmitFailed';

/** True when the job already carries this mark (nothing to write). */
export function isMarked(job: Job, reason: PoisonReason): boolean {
  const status = job.status as unknown;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return false;
  if ((status as JobStatus).phase !== 'FAILED' || !Array.isArray((status as JobStatus).conditions)) return false;
  return getCondition(job, 'Failed')?.reason === reason;
}

/**
 * Marks the job FAILED with `reason` and `message`. Resolves to the stored
 * job, or undefined when it is gone or was already marked. Retries a Conflict
 * on a fresh copy a few times; other errors are the caller's to retry.
 */
export async function markFailed(
  client: SkyShiftClient,
  job: Job,
  reason: PoisonReason,
  message: string,
  nowIso: string,
  signal?: AbortSignal,
): Promise<Job | undefined> {
  let base = job;
  for (let attempt = 0; ; attempt++) {
    // Never over a finished job: COMPLETED stays COMPLETED, and a FAILED one is already out of every queue.
    if (isMarked(base, reason) || isTerminalPhase(base)) return undefined;
    // Identity and status only (a status write ignores spec): the stored spec may be the very thing that is broken.
    const body: ApiObject = { kind: 'Job', apiVersion: 'v1', metadata: identity(base), spec: {}, status: failedStatus(base, reason, message, nowIso) };
    try {
      return await client.updateStatus<Job>('jobs', body, { signal, namespace: base.metadata.namespace ?? 'default' });
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      if (!(err instanceof ApiError) || err.reason !== 'Conflict' || attempt >= 3) throw err;
      try {
        base = await client.get<Job>('jobs', job.metadata.name, { namespace: job.metadata.namespace ?? 'default', signal });
      } catch (getErr) {
        if (getErr instanceof ApiError && getErr.reason === 'NotFound') return undefined;
        throw getErr;
      }
      if (base.metadata.uid !== job.metadata.uid) return undefined;
    }
  }
}

function isTerminalPhase(job: Job): boolean {
  const phase = (job.status as JobStatus | undefined)?.phase;
  return phase === 'FAILED' || phase === 'COMPLETED';
}

function identity(job: Job): ObjectMeta {
  const { name, namespace, uid, resourceVersion } = job.metadata;
  return { name, namespace: namespace ?? 'default', ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
}

/** The status to write: the stored one with phase and condition set, or just those when the stored one is itself broken. */
function failedStatus(job: Job, reason: PoisonReason, message: string, nowIso: string): Partial<JobStatus> {
  const sane = statusProblemOf(job) === undefined;
  const base: Partial<JobStatus> = sane && job.status ? { ...job.status } : {};
  const conditions = setCondition(sane ? base.conditions : [], { type: 'Failed', status: 'True', reason, message }, nowIso);
  return { ...base, phase: 'FAILED', conditions };
}

/**
 * An error's text made safe for logs, Events and conditions: a manager's error
 * may quote what it was given (Node's spawn quotes an env value with a NUL),
 * so a text that holds a piece of any env value is withheld whole (only the
 * error's code stays), control characters are dropped and the text is bounded.
 */
export function safeErrorText(err: unknown, job?: Job): string {
  const text = errText(err);
  const envs = (job?.spec as { envs?: unknown } | undefined)?.envs;
  if (typeof envs === 'object' && envs !== null) {
    for (const v of Object.values(envs)) {
      if (typeof v !== 'string') continue;
      // Pieces between characters an error message would escape; the first few, a prefix of each is enough to tell.
      const pieces = v
        .split(/[\u0000-\u001f'"\\]/)
        .filter((p) => p.length >= 4)
        .slice(0, 8);
      if (pieces.some((p) => text.includes(p.slice(0, 16)))) {
        const code = (err as { code?: unknown } | null)?.code;
        return `${typeof code === 'string' ? code : 'error'}: message withheld (it quoted the job's environment)`;
      }
    }
  }
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}
