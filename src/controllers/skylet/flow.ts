/**
 * A skylet's flow: for each job with ranks placed on its cluster, an ORDERED
 * LIST OF STEPS run by a work queue keyed by job. Each step either hands over
 * to the next or ends this round (optionally asking to look again later).
 * Today: [cancelFailed, validate, submit]; a data-staging step goes between
 * validate and submit. manager.submit is idempotent by uid + rank, so a
 * restart that resubmits finds the existing work.
 */
import { hasStarted, placementsOf, type Job } from '../../api/index.js';
import { WorkQueue, jobProblem, safeErrorText, type HandlerResult } from '../runtime/index.js';
import { boundedSubmit } from './bounded-submit.js';
import { cancelFailedJob } from './failed-job.js';
import { RESUBMIT_MS } from './parts.js';
import type { SkyletState } from './state.js';

/** `next`: go on with the following step; otherwise this round ends with the given result. */
export type StepResult = 'next' | { stop: HandlerResult };

export interface FlowStep {
  readonly name: string;
  run(job: Job, s: SkyletState, signal: AbortSignal): Promise<StepResult>;
}

const stop = (result: HandlerResult = undefined): StepResult => ({ stop: result });

/** A FAILED job's replicas still running here are cancelled at once, not at the next sync. */
export const cancelFailedStep: FlowStep = {
  name: 'cancelFailed',
  async run(job, s, signal) {
    if (job.status?.phase !== 'FAILED') return 'next';
    if (!s.manager || !s.mayReport) return stop();
    const cancelled = await cancelFailedJob(s.deps, s.manager, s.name, job, signal);
    if (cancelled.length > 0 && job.metadata.uid) s.forgetSubmitted(job.metadata.uid, cancelled);
    return stop();
  },
};

/** Only sane ACTIVE jobs are worked on, and only once the first sync told us what the manager already has. */
export const validateStep: FlowStep = {
  name: 'validate',
  async run(job, s) {
    if (job.status?.phase !== 'ACTIVE' || !job.metadata.uid || !s.manager || jobProblem(job) !== undefined) return stop();
    // Submit is idempotent, but waiting for the first sync keeps events honest.
    if (!s.synced || s.phase !== 'READY' || !s.mayReport) return stop({ requeueAfterMs: s.deps.options.heartbeatSeconds * 1000 });
    return 'next';
  },
};

/** Submits the ranks placed here that the manager has not started, unless submitted recently. */
export const submitStep: FlowStep = {
  name: 'submit',
  async run(job, s, signal) {
    const uid = job.metadata.uid as string;
    const manager = s.manager;
    if (!manager) return stop();
    const ranks = placementsOf(job)[s.name] ?? [];
    const have = s.lastTasks.get(uid);
    // Ranks the manager has past PENDING need nothing. PENDING ones are submitted again now and then:
    // submit is idempotent, and it lets a manager complete a start that a crash interrupted.
    const started = new Set<number>();
    for (const [task, state] of Object.entries(have?.tasks ?? {})) {
      const r = have?.ranks[task];
      if (r !== undefined && hasStarted(state)) started.add(r);
    }
    const now = s.deps.clock.now();
    const recent = (r: number) => now - (s.submitted.get(`${uid}#${r}`) ?? -Infinity) < RESUBMIT_MS;
    const notStarted = ranks.filter((r) => !started.has(r));
    const todo = notStarted.filter((r) => !recent(r));
    // Nothing may change the job while a replica waits to start (e.g. a start lost to a crash, which the manager
    // completes only on a later submit), so look again after RESUBMIT_MS instead of waiting for an event.
    const lookAgain = notStarted.length > 0 ? { requeueAfterMs: RESUBMIT_MS } : undefined;
    if (todo.length === 0) return stop(lookAgain);
    signal.throwIfAborted();
    const jobId = await manager.submit(job, { ranks: todo });
    const fresh = todo.filter((r) => !s.submitted.has(`${uid}#${r}`));
    for (const r of todo) s.submitted.set(`${uid}#${r}`, now);
    if (fresh.length > 0)
      s.deps.events.record(job, 'Submitted', `submitted replicas ${fresh.join(',')} to cluster '${s.name}' (${jobId})`, { source: s.source });
    // Pick up the new tasks at once (and poll shortly after) rather than at the next heartbeat: once job sync
    // sees them started, the heartbeat after that lets the scheduler free what it held for them.
    s.resetFollowUp();
    s.syncTrigger.kick();
    s.heartbeatTrigger.kick();
    return stop(lookAgain);
  },
};

export const DEFAULT_FLOW: readonly FlowStep[] = [cancelFailedStep, validateStep, submitStep];

export class Flow {
  private readonly queue: WorkQueue<string>;

  constructor(
    private readonly s: SkyletState,
    private readonly steps: readonly FlowStep[] = DEFAULT_FLOW,
  ) {
    const { deps } = s;
    this.queue = new WorkQueue<string>({
      name: `skylet-${s.name}`,
      clock: deps.clock,
      baseMs: deps.options.submitRetryBaseMs ?? 500,
      maxMs: 30_000,
      // Name and a scrubbed message only: a manager's error may quote the job's env.
      onError: (key, err) => deps.logger.warn({ cluster: s.name, job: key, err: safeErrorText(err, deps.jobs.get(String(key))) }, 'submit failed; retrying'),
    });
  }

  add(key: string): void {
    this.queue.add(key);
  }

  run(signal: AbortSignal): Promise<void> {
    const bound = { cluster: this.s.name, deps: this.s.deps, failuresOf: (k: string) => this.queue.numRequeues(k) };
    return this.queue.run(4, (key, sig) => boundedSubmit(bound, key, sig, () => this.handle(key, sig)), signal);
  }

  shutdown(): void {
    this.queue.shutdown();
  }

  private async handle(key: string, signal: AbortSignal): Promise<HandlerResult> {
    const job = this.s.deps.jobs.get(key);
    if (!job) return;
    for (const step of this.steps) {
      const result = await step.run(job, this.s, signal);
      if (result !== 'next') return result.stop;
    }
  }
}
