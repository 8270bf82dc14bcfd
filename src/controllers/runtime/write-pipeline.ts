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
  /** Background writes (reasons of pending jobs): they start only when no urgent write waits. */
  private readonly background: (() => Promise<void>)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length + this.background.length;
  }

  /**
   * Runs `fn` when a slot frees; `fn` must not throw (errors are the caller's to handle inside it).
   * Background writes queue behind every urgent one: when 100 clusters appear under a 10,000-job
   * backlog, each job's "why pending" changes, and those rewrites must not delay the placements.
   */
  push(fn: () => Promise<void>, background = false): void {
    if (this.active < this.limit) this.start(fn);
    else if (background) this.background.push(fn);
    else this.waiting.push(fn);
  }

  /** Resolves once nothing is running or queued. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private start(fn: () => Promise<void>): void {
    this.active++;
    void fn()
      .catch(() => undefined)
      .finally(() => {
        this.active--;
        const next = this.waiting.shift() ?? this.background.shift();
        if (next) this.start(next);
        else if (this.active === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const r of w) r();
        }
      });
  }
}
