/**
 * Kubernetes-style work queue (DESIGN 6): keys are de-duplicated while they
 * wait; a key being processed is never handed to a second worker — if it is
 * added again meanwhile it is queued once more when the first worker calls
 * done(), so the newest state is always reconciled. Failed keys come back
 * with per-key capped exponential backoff.
 */
import { KeyedBackoff, systemClock, type BackoffOptions, type Clock, type TimerHandle } from '../../lib/index.js';

export interface WorkQueueOptions extends BackoffOptions {
  clock?: Clock;
  /** Called when a handler throws (the key is retried with backoff). */
  onError?: (key: unknown, error: unknown) => void;
  /** Named queues are counted in the `skyshift_controller_workqueue_depth` gauge until shutdown(). */
  name?: string;
}

/** Live named queues, read by the depth gauge at scrape time. */
export const liveQueues = new Set<{ readonly name: string; readonly depth: number }>();

/** A handler may ask for a later re-check without counting as a failure. */
export type HandlerResult = void | { requeueAfterMs?: number };
export type Handler<K> = (key: K, signal: AbortSignal) => Promise<HandlerResult> | HandlerResult;

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff<K>;
  private readonly onError: ((key: unknown, error: unknown) => void) | undefined;
  private readonly queue: K[] = [];
  /** Keys that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, { due: number; handle: TimerHandle }>();
  private waiters: ((key: K | undefined) => void)[] = [];
  private closed = false;
  private tracked: { readonly name: string; readonly depth: number } | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    // Short first retry (a Conflict usually clears at once), long cap (a dead cluster is retried rarely).
    this.backoff = new KeyedBackoff<K>({ baseMs: 5, maxMs: 60_000, ...options });
    this.onError = options.onError;
    if (options.name !== undefined) {
      const name = options.name;
      const depth = () => this.depth;
      this.tracked = {
        name,
        get depth() {
          return depth();
        },
      };
      liveQueues.add(this.tracked);
    }
  }

  /** Keys waiting, delayed or being processed. */
  get depth(): number {
    return this.queue.length + this.delayed.size + this.processing.size;
  }

  /** Keys waiting to be handed out (not counting those in flight or delayed). */
  get length(): number {
    return this.queue.length;
  }

  get shuttingDown(): boolean {
    return this.closed;
  }

  add(key: K): void {
    if (this.closed || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Add after `ms`; of several pending delayed adds of one key the earliest wins. */
  addAfter(key: K, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const due = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.due <= due) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { due, handle });
  }

  /** Retry `key` after its next backoff step. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.backoff.next(key));
  }

  /** Reset the backoff of `key` (call after it was processed successfully). */
  forget(key: K): void {
    this.backoff.forget(key);
  }

  numRequeues(key: K): number {
    return this.backoff.failuresOf(key);
  }

  /** Next key to process, waiting if none; undefined once shut down. Pair with done(key). */
  get(): Promise<K | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.closed) this.enqueue(key);
  }

  /** Stop handing out keys; waiting get() calls resolve undefined, delayed adds are dropped. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tracked) liveQueues.delete(this.tracked);
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  /**
   * Run `concurrency` workers until `signal` aborts (or shutdown()). A handler
   * that throws gets its key retried with backoff; one that returns normally
   * resets the key's backoff. Resolves once every worker has finished its
   * current key.
   */
  async run(concurrency: number, handler: Handler<K>, signal?: AbortSignal): Promise<void> {
    const workerSignal = signal ?? new AbortController().signal;
    const stop = () => this.shutdown();
    if (workerSignal.aborted) stop();
    workerSignal.addEventListener('abort', stop, { once: true });
    const worker = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          const result = await handler(key, workerSignal);
          this.forget(key);
          if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
        } catch (error) {
          // A throwing error callback must not end the worker: every later key would wait forever.
          try {
            this.onError?.(key, error);
          } catch {
            /* reported nowhere better; the key is retried all the same */
          }
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    } finally {
      workerSignal.removeEventListener('abort', stop);
    }
  }

  private enqueue(key: K): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  private take(): K | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
