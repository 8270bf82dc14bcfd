/**
 * What the scheduler says about jobs it could not place: the "why pending"
 * Scheduled=False condition (rewritten at most every MESSAGE_REFRESH_MS when
 * only the reasons changed, queued behind every placement write), and
 * maxPendingSeconds deadlines that turn a long wait into FAILED.
 */
import { getCondition, type Job } from '../../api/index.js';
import type { ControllerContext } from '../controller.js';
import type { WritePipeline } from '../runtime/index.js';
import type { PendingEntry, PendingQueue } from './pending-queue.js';
import { UNSCHEDULABLE, writePendingTimeout, writeUnschedulable } from './writes.js';

/** A pending job's reasons (e.g. "largest free 2") are rewritten at most this often when only they changed. */
const MESSAGE_REFRESH_MS = 5_000;

/** The scheduler's state these writes coordinate with. */
export interface PendingHost {
  queue: PendingQueue;
  /** Jobs with a status write in flight. */
  inflight: ReadonlySet<string>;
  signal(): AbortSignal;
  /** Queue an urgent write of a job (marks it in flight). */
  startWrite(key: string, fn: () => Promise<void>): void;
  /** Run a write of a job now, marked in flight meanwhile. */
  runWrite(key: string, fn: () => Promise<void>): Promise<void>;
  /** The scheduler wrote `out`: older cache copies are stale. */
  wrote(key: string, out: Job): void;
}

export class PendingReasons {
  /** Jobs with a "why pending" write queued but not started; placing the job first drops it. */
  private readonly queued = new Set<string>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly pipeline: WritePipeline,
    private readonly host: PendingHost,
  ) {}

  forget(key: string): void {
    this.queued.delete(key);
  }

  /** Deadlines and deferred reason updates: O(queue) but only every resync. */
  resync(now: number): void {
    for (const entry of this.host.queue.snapshot()) {
      if (this.host.inflight.has(entry.key)) continue;
      if (this.deadlinePassed(entry, now)) continue;
      if (entry.decidedMessage !== undefined) this.maybeWrite(entry, now);
    }
  }

  private deadlinePassed(entry: PendingEntry, now: number): boolean {
    const job = entry.job;
    const maxPending = job.spec.maxPendingSeconds;
    if (maxPending === undefined || job.status?.phase === 'ACTIVE') return false;
    const created = Date.parse(job.metadata.creationTimestamp ?? '');
    if (Number.isNaN(created) || now - created <= maxPending * 1000) return false;
    const message = `not placed within maxPendingSeconds (${maxPending} s); last reason: ${getCondition(job, 'Scheduled')?.message ?? 'none'}`;
    this.host.startWrite(entry.key, async () => {
      const out = await writePendingTimeout(this.ctx.client, job, message, this.nowIso(), this.host.signal());
      if (out) this.ctx.events.record(out, 'Failed', message, { source: 'scheduler' });
    });
    return true;
  }

  /** Writes the "why pending" condition, unless it already says so; a changed reason alone is written at most every MESSAGE_REFRESH_MS. */
  maybeWrite(entry: PendingEntry, now: number): void {
    const job = entry.job;
    const message = entry.decidedMessage;
    if (message === undefined || this.host.inflight.has(entry.key) || this.queued.has(entry.key)) return;
    const phase = job.status?.phase ?? 'INIT';
    const wantPhase = phase === 'ACTIVE' ? 'ACTIVE' : 'PENDING';
    const cond = getCondition(job, 'Scheduled');
    const shown = cond?.status === 'False' && phase === wantPhase;
    const exceedsShown = getCondition(job, UNSCHEDULABLE)?.message === entry.decidedExceeds;
    if (shown && cond.message === message && exceedsShown) return;
    if (shown && entry.writtenAt !== undefined && now - entry.writtenAt < MESSAGE_REFRESH_MS) return;
    entry.writtenAt = now;
    const key = entry.key;
    this.queued.add(key);
    this.pipeline.push(async () => {
      // Placed (or another write started) while this waited: nothing to say any more.
      if (!this.queued.delete(key) || this.host.inflight.has(key)) return;
      // The newest decision and copy by now: a write queued behind a burst may have waited a while.
      const latest = this.host.queue.get(key);
      const text = latest?.decidedMessage;
      if (!latest || text === undefined) return;
      const copy = latest.job;
      const phaseNow = copy.status?.phase === 'ACTIVE' ? 'ACTIVE' : 'PENDING';
      await this.host.runWrite(key, async () => {
        const out = await writeUnschedulable(this.ctx.client, copy, phaseNow, text, this.nowIso(), this.host.signal(), latest.decidedExceeds);
        if (!out) return;
        this.host.wrote(key, out);
        this.ctx.events.record(out, 'FailedScheduling', text, { source: 'scheduler' });
      });
    }, true);
  }

  private nowIso(): string {
    return new Date(this.ctx.clock.now()).toISOString();
  }
}
