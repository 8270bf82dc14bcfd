/**
 * Slows down password guessing: after a few free failures, each further
 * failure for the same username (or from the same client address) doubles a
 * lockout during which login answers 429 with Retry-After, without even
 * checking the password. Keyed by the name as typed, so unknown and known
 * users are throttled alike (no existence oracle). In memory, per server.
 */
export interface ThrottleOptions {
  /** Failures allowed before lockouts start. */
  free: number;
  baseSeconds: number;
  maxSeconds: number;
  /** A key forgets its failures after this long without one. */
  forgetSeconds: number;
  maxEntries: number;
}

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

export class Throttle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly options: ThrottleOptions,
    private readonly now: () => Date,
  ) {}

  /** Seconds to wait before `key` may try again; 0 if it may try now. */
  retryAfter(key: string): number {
    const entry = this.live(key);
    if (!entry) return 0;
    const ms = entry.blockedUntil - this.now().getTime();
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  fail(key: string): void {
    const now = this.now().getTime();
    const entry = this.live(key) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
    entry.failures += 1;
    entry.lastFailure = now;
    const over = entry.failures - this.options.free;
    if (over > 0) {
      const seconds = Math.min(this.options.maxSeconds, this.options.baseSeconds * 2 ** (over - 1));
      entry.blockedUntil = now + seconds * 1000;
    }
    this.entries.delete(key); // re-insert: Map order is then least-recently-failed first
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.now().getTime() - entry.lastFailure > this.options.forgetSeconds * 1000) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
