/**
 * The scheduler's poison jobs (poison.ts): jobs it must keep out of its queue
 * because they are invalid or because deciding on them threw. Each is marked
 * FAILED once (Warning Event + condition); a mark that cannot be written is
 * retried with backoff a bounded number of times, then left (logged): the job
 * stays out of scheduling either way, so it never holds capacity or a pass.
 */
import type { SkyShiftClient } from '../../client/index.js';
import { backoffDelay } from '../../lib/index.js';
import { type Job } from '../../api/index.js';
import { DEFAULT_JOB_LIMITS, isMarked, jobProblem, markFailed, safeErrorText, type EventRecorder, type PoisonReason } from '../runtime/index.js';
import { keyOf } from './pending-queue.js';
import type { ControllerDeps } from '../controller.js';

/** Attempts to write one mark before giving up on it. */
const MAX_ATTEMPTS = 5;
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 60_000;

interface Entry {
  job: Job;
  reason: PoisonReason;
  message: string;
  attempts: number;
  nextAt: number;
  writing: boolean;
  done: boolean;
}

export class PoisonJobs {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: SkyShiftClient,
    private readonly recorder: EventRecorder,
    private readonly deps: ControllerDeps,
    private readonly signal: () => AbortSignal,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * True when the job must be kept out of scheduling: it is invalid, or the
   * scheduler failed on this very version of it. Marks it (once) as a side effect.
   */
  check(job: Job): boolean {
    const key = keyOf(job);
    const problem = jobProblem(job, { maxReplicas: this.deps.options.maxReplicas ?? DEFAULT_JOB_LIMITS.maxReplicas });
    if (problem !== undefined) {
      this.mark(job, 'InvalidObject', problem);
      return true;
    }
    const e = this.entries.get(key);
    // A reconcile failure sticks to the version that caused it; a changed object is tried again.
    if (e && e.reason === 'ReconcileFailed' && e.job.metadata.resourceVersion === job.metadata.resourceVersion) return true;
    if (e) this.entries.delete(key);
    return false;
  }

  /** The scheduler threw while handling this job: keep it out until it changes, and mark it. */
  failed(job: Job, err: unknown): void {
    this.mark(job, 'ReconcileFailed', `the scheduler could not handle this job: ${safeErrorText(err, job)}`);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Writes marks whose last attempt failed and whose backoff ran out; called on every resync. */
  retry(now: number): void {
    for (const e of this.entries.values()) {
      if (!e.done && !e.writing && e.attempts > 0 && e.attempts < MAX_ATTEMPTS && now >= e.nextAt) this.write(e);
    }
  }

  private mark(job: Job, reason: PoisonReason, message: string): void {
    const key = keyOf(job);
    const known = this.entries.get(key);
    if (known && known.reason === reason && known.message === message) {
      known.job = job;
      return;
    }
    const e: Entry = { job, reason, message, attempts: 0, nextAt: 0, writing: false, done: isMarked(job, reason) };
    this.entries.set(key, e);
    // Already marked (by an earlier run of the controllers): nothing to say again.
    if (e.done) return;
    // Name and message only: the object's contents (env values) never reach a log.
    this.deps.logger.warn({ job: key, reason, message }, 'job cannot be scheduled; marking it FAILED');
    this.recorder.record(job, reason, message, { type: 'Warning', source: 'scheduler' });
    this.write(e);
  }

  private write(e: Entry): void {
    e.writing = true;
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    void markFailed(this.client, e.job, e.reason, e.message, nowIso, this.signal())
      .then(
        () => {
          e.done = true;
        },
        (err: unknown) => {
          if (this.signal().aborted) return;
          e.attempts++;
          e.nextAt = this.deps.clock.now() + backoffDelay(e.attempts, { baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS });
          const giveUp = e.attempts >= MAX_ATTEMPTS;
          const log = { job: keyOf(e.job), reason: e.reason, attempts: e.attempts, err: safeErrorText(err, e.job) };
          if (giveUp) this.deps.logger.error(log, 'could not mark job FAILED; giving up (it stays out of scheduling)');
          else this.deps.logger.warn(log, 'could not mark job FAILED; will retry');
        },
      )
      .finally(() => {
        e.writing = false;
      });
  }
}
