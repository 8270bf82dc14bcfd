/**
 * Bounded-concurrency status writes. The scheduler decides synchronously and
 * hands each write here without waiting, so one slow write never holds up the
 * next decision, while the API server never sees more than `limit` writes of
 * ours at once. A crash between decide and write just decides again: status is
 * written before anything is submitted, so nothing is placed twice.
 */
export class WritePipeline {
  private active = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` when a slot frees; `fn` must not throw (errors are the caller's to handle inside it). */
  push(fn: () => Promise<void>): void {
    if (this.active < this.limit) this.start(fn);
    else this.waiting.push(fn);
  }

  /** Resolves once nothing is running or queued. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private start(fn: () => Promise<void>): void {
    this.active++;
    void fn()
      .catch(() => undefined)
      .finally(() => {
        this.active--;
        const next = this.waiting.shift();
        if (next) this.start(next);
        else if (this.active === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const r of w) r();
        }
      });
  }
}
