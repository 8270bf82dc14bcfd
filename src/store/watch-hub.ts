/**
 * In-process fan-out of committed events plus the replay-then-live merge used by
 * the single-process backends (memory, sqlite).
 */
import { StoreError, type StoreEvent } from './types.js';

export type Listener = (event: StoreEvent) => void;

export class EventHub {
  private readonly listeners = new Set<Listener>();

  get active(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: StoreEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export interface HistorySource {
  /** Up to `limit` retained events on `prefix` with revision > `after`, ascending. Synchronous. */
  eventsAfter(prefix: string, after: number, limit: number): StoreEvent[];
  /** History at or below this revision is gone. */
  compactRevision(): number;
}

const PAGE = 1000;

/**
 * Replay retained history after `afterRevision`, then live events, with no gap
 * and no duplicate. Writes in these backends are synchronous, so subscribing and
 * reading the first page in the same tick leaves no window where an event is in
 * neither; live events that overlap later replay pages are dropped by revision.
 */
export async function* replayThenLive(
  hub: EventHub,
  history: HistorySource,
  prefix: string,
  afterRevision: number,
  signal: AbortSignal,
): AsyncGenerator<StoreEvent> {
  if (signal.aborted) return;
  const live: StoreEvent[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = hub.subscribe((event) => {
    if (!event.key.startsWith(prefix)) return;
    live.push(event);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    let last = afterRevision;
    for (;;) {
      // Checked before every page: a prune between pages could otherwise open a gap.
      const compacted = history.compactRevision();
      if (last < compacted) {
        throw new StoreError('Expired', `watch from revision ${afterRevision}: history up to ${compacted} has been compacted`);
      }
      const page = history.eventsAfter(prefix, last, PAGE);
      for (const event of page) {
        last = event.revision;
        yield event;
        if (signal.aborted) return;
      }
      if (page.length < PAGE) break;
    }
    while (!signal.aborted) {
      const event = live.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (event.revision <= last) continue;
      last = event.revision;
      yield event;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}
