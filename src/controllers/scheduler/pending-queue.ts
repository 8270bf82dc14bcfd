/**
 * The scheduler's pending queue (DESIGN 7.5): jobs that need a placement,
 * kept in priority-then-age order as informer events arrive, so a scheduling
 * pass never lists or sorts the whole job cache.
 *
 * Why a sorted array: passes walk the queue in order and may stop early, which
 * a heap cannot do without popping. Jobs mostly arrive in creation order, so
 * an insert is nearly always an append; removal is a binary search + splice.
 */
import { comparePending, type Queued } from './engine/index.js';
import { type Job } from '../../api/index.js';

export interface PendingEntry extends Queued {
  key: string;
  /** The newest informer copy of the job. */
  job: Job;
  /** Capacity generation at which the job last did not fit; it is not decided again until capacity grows. */
  failedGen?: number;
  /** What the decision depends on besides capacity (see shapeOf in the controller). */
  shape?: string;
  /** Message of the last "does not fit" decision, and when we last wrote one. */
  decidedMessage?: string;
  /** The last decision's "exceeds every cluster" message (DecisionPending.exceedsEvery). */
  decidedExceeds?: string;
  writtenAt?: number;
}

export function keyOf(job: Job): string {
  return `${job.metadata.namespace ?? 'default'}/${job.metadata.name}`;
}

export class PendingQueue {
  private readonly order: PendingEntry[] = [];
  private readonly byKey = new Map<string, PendingEntry>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): PendingEntry | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Add a job or refresh its copy; moves it when its priority or creation time changed. */
  upsert(job: Job): PendingEntry {
    const key = keyOf(job);
    const prev = this.byKey.get(key);
    const priority = job.spec.priority ?? 0;
    const creationTimestamp = job.metadata.creationTimestamp;
    if (prev && prev.priority === priority && prev.creationTimestamp === creationTimestamp) {
      prev.job = job;
      return prev;
    }
    if (prev) this.removeEntry(prev);
    const entry: PendingEntry = {
      key,
      job,
      namespace: job.metadata.namespace ?? 'default',
      name: job.metadata.name,
      priority,
      ...(creationTimestamp !== undefined ? { creationTimestamp } : {}),
      ...(prev ? carry(prev) : {}),
    };
    this.byKey.set(key, entry);
    this.order.splice(this.insertionPoint(entry), 0, entry);
    return entry;
  }

  remove(key: string): PendingEntry | undefined {
    const entry = this.byKey.get(key);
    if (entry) this.removeEntry(entry);
    return entry;
  }

  /** Entries in queue order (a snapshot: safe to upsert/remove while iterating). */
  snapshot(): PendingEntry[] {
    return this.order.slice();
  }

  private removeEntry(entry: PendingEntry): void {
    this.byKey.delete(entry.key);
    const i = this.insertionPoint(entry);
    // comparePending is a total order (ties broken by key), so the entry sits at i or i-1.
    if (this.order[i] === entry) this.order.splice(i, 1);
    else if (i > 0 && this.order[i - 1] === entry) this.order.splice(i - 1, 1);
    else {
      const j = this.order.indexOf(entry);
      if (j >= 0) this.order.splice(j, 1);
    }
  }

  /** First index whose entry sorts after `e` (binary search; appends are the common case). */
  private insertionPoint(e: PendingEntry): number {
    const last = this.order[this.order.length - 1];
    if (!last || comparePending(last, e) < 0) return this.order.length;
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePending(this.order[mid] as PendingEntry, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function carry(prev: PendingEntry): Partial<PendingEntry> {
  const out: Partial<PendingEntry> = {};
  if (prev.decidedMessage !== undefined) out.decidedMessage = prev.decidedMessage;
  if (prev.writtenAt !== undefined) out.writtenAt = prev.writtenAt;
  if (prev.decidedExceeds !== undefined) out.decidedExceeds = prev.decidedExceeds;
  return out;
}
