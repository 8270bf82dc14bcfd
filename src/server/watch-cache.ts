/**
 * One store watch per kind feeding an in-memory copy of every object plus a
 * ring of recent events (kube-apiserver's "cacher"). Lists, gets and client
 * watches are all served from here, so N watchers cost one store watch and a
 * list of 10k objects is a string join of pre-serialised JSON.
 */
import { matchesLabels, type ApiObject, type KindInfo, type LabelSelector } from '../api/index.js';
import { backoffDelay, sleep, systemClock } from '../lib/index.js';
import { toCached, type CachedObject } from './cached-object.js';
import { EventRing, type CachedEvent } from './event-ring.js';
import { SortedKeys } from './sorted-keys.js';
import type { Store, StoreEvent } from './store.js';
import { lineFor, matchesFilter, Watchers, type WatchFilter, type WatchSink } from './watchers.js';

export interface WatchCacheOptions {
  /** Events kept for resuming watches. */
  ringSize?: number;
  bookmarkIntervalMs?: number;
  onError?: (err: unknown) => void;
  /** Called when watchers are added or removed: the number for this kind. */
  onWatchers?: (count: number) => void;
}

export type WatchStart = { ok: true; stop: () => void } | { ok: false; expired: true; oldest: number };

interface Waiter {
  check: () => boolean;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

export class KindCache {
  readonly kind: KindInfo;
  readonly prefix: string;
  /** Revision of the last event applied (or of the initial list). */
  revision = 0;
  synced = false;

  private readonly store: Store;
  private readonly objects = new Map<string, CachedObject>();
  /** Keys in sorted order, maintained incrementally (O(log n) per write) so lists never sort. */
  private readonly keys = new SortedKeys();
  private readonly ring: EventRing;
  private readonly watchers: Watchers;
  private waiters: Waiter[] = [];
  private readonly options: WatchCacheOptions;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly bookmarkPrefix: string;
  /**
   * Objects this server has just written, already serialised for the response:
   * the cache adopts them when their event arrives instead of serialising the
   * same object a second time (a measurable share of a create).
   */
  private readonly primed = new Map<string, CachedObject>();

  constructor(store: Store, kind: KindInfo, prefix: string, options: WatchCacheOptions = {}) {
    this.store = store;
    this.kind = kind;
    this.prefix = prefix;
    this.options = options;
    this.ring = new EventRing(Math.max(16, options.ringSize ?? 20_000));
    this.watchers = new Watchers(options.onWatchers);
    this.bookmarkPrefix = `{"type":"BOOKMARK","object":{"kind":${JSON.stringify(kind.kind)},"apiVersion":"v1","metadata":{"resourceVersion":"`;
  }

  /** Keeps the cache fed until `signal` aborts; relists (closing watches) after a store watch failure. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.options.bookmarkIntervalMs ?? 30_000;
    this.bookmarkTimer = setInterval(() => this.bookmark(), interval);
    this.bookmarkTimer.unref();
    signal.addEventListener('abort', () => this.shutdown('server shutting down'), { once: true });
    let failures = 0;
    while (!signal.aborted) {
      try {
        const listed = await this.store.list(this.prefix);
        this.reset(
          listed.items.map((kv) => toCached(kv.key, kv.value, kv.modRevision)),
          listed.revision,
        );
        for await (const event of this.store.watch(this.prefix, listed.revision, signal)) {
          this.apply(event);
          failures = 0;
        }
      } catch (err) {
        if (signal.aborted) break;
        this.options.onError?.(err);
      }
      if (signal.aborted) break;
      // Events may have been missed: clients must resume (and relist on 410).
      this.synced = false;
      this.closeWatchers('watch cache resynchronising');
      await sleep(backoffDelay(++failures, RESYNC_BACKOFF), signal, systemClock);
    }
    this.shutdown('server shutting down');
  }

  get size(): number {
    return this.objects.size;
  }

  /** Watches from a revision below this cannot be served exactly (410). */
  get floor(): number {
    return this.ring.floor;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  /**
   * Objects under `prefix` in key order, after `startAfter`, matching `selector`;
   * `more` is set when `limit` cut the result and another match exists.
   */
  list(
    prefix: string,
    options: { selector?: LabelSelector; limit?: number; startAfter?: string; visible?: (obj: ApiObject) => boolean } = {},
  ): {
    items: CachedObject[];
    more: boolean;
  } {
    const from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : prefix;
    const items: CachedObject[] = [];
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const selector = options.selector && options.selector.length > 0 ? options.selector : undefined;
    let more = false;
    this.keys.scanFrom(from, (key) => {
      if (key === options.startAfter) return true;
      if (!key.startsWith(prefix)) return false;
      const cached = this.objects.get(key)!;
      if (selector && !matchesLabels(selector, cached.obj.metadata.labels)) return true;
      if (options.visible && !options.visible(cached.obj)) return true;
      if (items.length >= limit) {
        more = true;
        return false;
      }
      items.push(cached);
      return true;
    });
    return { items, more };
  }

  /** Offers the serialised form of an object this server wrote; see `primed`. */
  prime(object: CachedObject): void {
    // Already applied (the event can beat the write's reply), or the cache is far behind: skip.
    if (object.revision <= this.revision || this.primed.size >= MAX_PRIMED) return;
    this.primed.set(object.key, object);
  }

  /** Resolves true once the cache has applied `revision`, false on timeout. */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.revision >= revision, timeoutMs);
  }

  /** Resolves true once `check` holds after some applied event, false on timeout. */
  waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        check,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(check());
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Registers a client watch. Without `fromRevision`: every current match as
   * ADDED, then live events. With it: exactly the events after it, or
   * `expired` when the ring no longer holds them. Synchronous, so no event can
   * fall between the replay and the registration.
   */
  watch(filter: WatchFilter, sink: WatchSink, fromRevision?: number): WatchStart {
    if (fromRevision === undefined) {
      const initial = filter.key !== undefined ? optional(this.objects.get(filter.key)) : this.list(filter.prefix, {}).items;
      for (const cached of initial) {
        if (!matchesFilter(filter, cached)) continue;
        if (!sink.write(`{"type":"ADDED","object":${cached.json}}\n`)) {
          sink.close('client too slow');
          return { ok: true, stop: () => {} };
        }
      }
    } else {
      if (fromRevision < this.floor) return { ok: false, expired: true, oldest: this.floor };
      for (const event of this.ring.after(fromRevision)) {
        const line = lineFor(event, filter);
        if (line !== undefined && !sink.write(line)) {
          sink.close('client too slow');
          return { ok: true, stop: () => {} };
        }
      }
    }
    return { ok: true, stop: this.watchers.add(filter, sink) };
  }

  /** Ends every client watch, e.g. on shutdown or after a resync. */
  closeWatchers(reason: string): void {
    this.watchers.closeAll(reason);
  }

  private shutdown(reason: string): void {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    this.closeWatchers(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
  }

  private bookmark(): void {
    if (this.watchers.size === 0 || !this.synced) return;
    const line = `${this.bookmarkPrefix}${this.revision}"}}}\n`;
    this.watchers.fanOut(() => line);
  }

  private reset(items: CachedObject[], revision: number): void {
    this.objects.clear();
    for (const item of items) this.objects.set(item.key, item);
    this.keys.reset([...this.objects.keys()]);
    this.ring.reset(revision);
    this.primed.clear();
    this.revision = revision;
    this.synced = true;
    this.notifyWaiters();
  }

  private apply(event: StoreEvent): void {
    const prev = this.objects.get(event.key);
    let cached: CachedEvent;
    if (event.type === 'put') {
      const object = this.adoptPrimed(event.key, event.revision) ?? toCached(event.key, event.value, event.revision);
      this.objects.set(event.key, object);
      if (!prev) this.keys.insert(event.key);
      cached = { type: prev ? 'MODIFIED' : 'ADDED', revision: event.revision, object, prev, lines: {} };
    } else {
      // The DELETED object carries the revision of the deletion, as in Kubernetes.
      const object = toCached(event.key, event.value, event.revision);
      if (prev) {
        this.objects.delete(event.key);
        this.keys.remove(event.key);
      }
      cached = { type: 'DELETED', revision: event.revision, object, prev, lines: {} };
    }
    this.revision = Math.max(this.revision, event.revision);
    this.ring.push(cached);
    if (this.watchers.size > 0) this.watchers.fanOut((filter) => lineFor(cached, filter));
    this.notifyWaiters();
  }

  private adoptPrimed(key: string, revision: number): CachedObject | undefined {
    if (this.primed.size === 0) return undefined;
    const primed = this.primed.get(key);
    if (primed === undefined || primed.revision > revision) return undefined;
    this.primed.delete(key);
    return primed.revision === revision ? primed : undefined;
  }

  private notifyWaiters(): void {
    if (this.waiters.length === 0) return;
    const pending: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.check()) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else pending.push(w);
    }
    this.waiters = pending;
  }
}

/** Primed objects waiting for their event; beyond this the cache is lagging and priming stops. */
const MAX_PRIMED = 10_000;
/** Between store relists after a failed store watch. */
const RESYNC_BACKOFF = { baseMs: 100, maxMs: 5_000 };

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}
