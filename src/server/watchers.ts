/**
 * The watch cache's fan-out: the client watches of one kind, each with its
 * filter, and the line each one sees for an event. A watcher whose sink
 * cannot keep up is dropped rather than buffered without bound.
 */
import { matchesLabels, type ApiObject, type LabelSelector, type WatchEventType } from '../api/index.js';
import type { CachedObject } from './cached-object.js';
import type { CachedEvent } from './event-ring.js';

export interface WatchFilter {
  /** Keys must start with this (namespace prefix), or equal `key`. */
  prefix: string;
  key?: string;
  selector?: LabelSelector;
  /** Which objects this watcher may see at all (an agent token's scope, auth/agent-scope.ts); absent for everyone else. */
  visible?: (obj: ApiObject) => boolean;
}

/** A client watch as the cache sees it: somewhere to write lines. */
export interface WatchSink {
  /** Returns false when the client cannot keep up; the cache then closes it. */
  write(line: string): boolean;
  /** Ends the stream; `reason` is for logs. Called at most once by the cache. */
  close(reason: string): void;
}

interface Registered {
  filter: WatchFilter;
  sink: WatchSink;
}

export class Watchers {
  private readonly all = new Set<Registered>();

  /** `onCount`: told the number of watchers whenever it changes. */
  constructor(private readonly onCount?: (count: number) => void) {}

  get size(): number {
    return this.all.size;
  }

  /** Registers a watcher; the returned function unregisters it (without closing its sink). */
  add(filter: WatchFilter, sink: WatchSink): () => void {
    const registered: Registered = { filter, sink };
    this.all.add(registered);
    this.onCount?.(this.all.size);
    return () => {
      if (this.all.delete(registered)) this.onCount?.(this.all.size);
    };
  }

  /** Writes to every watcher the line `lineOf` gives it (none when undefined); closes the slow ones. */
  fanOut(lineOf: (filter: WatchFilter) => string | undefined): void {
    let slow: Registered[] | undefined;
    for (const w of this.all) {
      const line = lineOf(w.filter);
      if (line === undefined) continue;
      if (!w.sink.write(line)) (slow ??= []).push(w);
    }
    if (slow) {
      for (const w of slow) this.all.delete(w);
      this.onCount?.(this.all.size);
      for (const w of slow) w.sink.close('client too slow');
    }
  }

  /** Ends every watch, e.g. on shutdown or after a resync. */
  closeAll(reason: string): void {
    const all = [...this.all];
    this.all.clear();
    this.onCount?.(0);
    for (const w of all) w.sink.close(reason);
  }
}

export function matchesFilter(filter: WatchFilter, object: CachedObject): boolean {
  if (filter.key !== undefined ? object.key !== filter.key : !object.key.startsWith(filter.prefix)) return false;
  if (filter.visible !== undefined && !filter.visible(object.obj)) return false;
  return !filter.selector || filter.selector.length === 0 || matchesLabels(filter.selector, object.obj.metadata.labels);
}

/**
 * The line a watcher with `filter` sees for `event`, or undefined. A MODIFIED
 * that moves an object into or out of a selector (or of what the watcher may
 * see: a job placed on or evicted from an agent's cluster) becomes ADDED or
 * DELETED, as in Kubernetes.
 */
export function lineFor(event: CachedEvent, filter: WatchFilter): string | undefined {
  const now = matchesFilter(filter, event.object);
  let type: WatchEventType;
  if (event.type === 'MODIFIED') {
    const before = event.prev !== undefined && matchesFilter(filter, event.prev);
    if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return undefined;
  } else {
    if (!now) return undefined;
    type = event.type;
  }
  return (event.lines[type] ??= `{"type":"${type}","object":${event.object.json}}\n`);
}
