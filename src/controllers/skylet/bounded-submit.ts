/**
 * Submits that keep failing end (DESIGN 17): a job the manager refuses every
 * time (an env value the OS will not take, an image that cannot exist) was
 * retried forever while the scheduler's reservation held its capacity, and the
 * warning logged the env value. After `maxSubmitFailures` failures in a row
 * (with the flow queue's backoff in between: ~1 minute at the defaults) the job
 * is marked FAILED with reason SubmitFailed; FAILED releases its reservations
 * and makes every skylet cancel whatever of it runs. Messages are scrubbed.
 */
import { markFailed, safeErrorText, type HandlerResult } from '../runtime/index.js';
import type { SkyletDeps } from './state.js';

export interface SubmitBound {
  cluster: string;
  deps: SkyletDeps;
  /** Failures of `key` so far (the flow queue's backoff count). */
  failuresOf(key: string): number;
}

export const DEFAULT_MAX_SUBMIT_FAILURES = 8;

export async function boundedSubmit(ctx: SubmitBound, key: string, signal: AbortSignal, submit: () => Promise<HandlerResult>): Promise<HandlerResult> {
  try {
    return await submit();
  } catch (err) {
    const failures = ctx.failuresOf(key) + 1;
    if (signal.aborted || failures < (ctx.deps.options.maxSubmitFailures ?? DEFAULT_MAX_SUBMIT_FAILURES)) throw err;
    const job = ctx.deps.jobs.get(key);
    if (!job) return;
    const message = `submit to cluster '${ctx.cluster}' failed ${failures} times: ${safeErrorText(err, job)}`;
    // A failed mark throws: the queue retries it with backoff like any failed submit.
    const out = await markFailed(ctx.deps.client, job, 'SubmitFailed', message, new Date(ctx.deps.clock.now()).toISOString(), signal);
    ctx.deps.logger.warn({ cluster: ctx.cluster, job: key, reason: 'SubmitFailed', message }, 'submit keeps failing; job marked FAILED');
    if (out) ctx.deps.events.record(out, 'SubmitFailed', message, { type: 'Warning', source: `skylet/${ctx.cluster}` });
  }
}
