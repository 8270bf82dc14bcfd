/**
 * The watch cache's history: a fixed-size ring of the most recent events, so a
 * client watch can resume from a revision without touching the store. What has
 * fallen off the ring sets the floor below which a resume is answered 410.
 */
import type { WatchEventType } from '../api/index.js';
import type { CachedObject } from './cached-object.js';

export interface CachedEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly revision: number;
  readonly object: CachedObject;
  readonly prev: CachedObject | undefined;
  /** Serialised lines by the type a watcher sees, built once and shared by every watcher. */
  lines: Partial<Record<WatchEventType, string>>;
}

export class EventRing {
  /** Resumes from a revision below this cannot be served exactly. */
  floor = 0;
  private readonly slots: (CachedEvent | undefined)[];
  private head = 0; // index of the oldest event
  private length = 0;

  constructor(size: number) {
    this.slots = new Array<CachedEvent | undefined>(size);
  }

  /** Forgets every event: history now starts at `revision`. */
  reset(revision: number): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.length = 0;
    this.floor = revision;
  }

  push(event: CachedEvent): void {
    const size = this.slots.length;
    if (this.length === size) {
      this.floor = this.slots[this.head]!.revision;
      this.slots[this.head] = event;
      this.head = (this.head + 1) % size;
    } else {
      this.slots[(this.head + this.length) % size] = event;
      this.length++;
    }
  }

  /** The events after `revision`, oldest first. */
  *after(revision: number): Generator<CachedEvent> {
    const size = this.slots.length;
    // Binary search over the ring (revisions increase from head to tail).
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.slots[(this.head + mid) % size]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.length; i++) yield this.slots[(this.head + i) % size]!;
  }
}
