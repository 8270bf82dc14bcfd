/**
 * Slows down password guessing. Every attempt is counted when it starts,
 * synchronously, before the password is checked: a check takes ~85 ms, and
 * counting only finished failures let 200 parallel tries through as about 70
 * real checks. After a few free attempts each further one doubles a lockout
 * during which login answers 429 with Retry-After without checking anything.
 * A success gives its attempt back (`succeed` forgets the key, `refund` takes
 * one attempt off). Keyed by the name as typed, so unknown and known users
 * are throttled alike (no existence oracle). In memory, per server.
 */
export interface ThrottleOptions {
  /** Attempts allowed before lockouts start. */
  free: number;
  baseSeconds: number;
  maxSeconds: number;
  /** A key forgets its attempts after this long without one. */
  forgetSeconds: number;
  maxEntries: number;
}

interface Entry {
  attempts: number;
  blockedUntil: number;
  lastAttempt: number;
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

  /**
   * Counts an attempt for `key` now, as if it will fail, and starts the
   * lockout it earns. Call only after `retryAfter` said 0, in the same
   * synchronous step, so no concurrent attempt can slip between the two.
   */
  reserve(key: string): void {
    const now = this.now().getTime();
    const entry = this.live(key) ?? { attempts: 0, blockedUntil: 0, lastAttempt: now };
    entry.attempts += 1;
    entry.lastAttempt = now;
    const over = entry.attempts - this.options.free;
    if (over > 0) entry.blockedUntil = now + Math.min(this.options.maxSeconds, this.options.baseSeconds * 2 ** (over - 1)) * 1000;
    this.entries.delete(key); // re-insert: Map order is then least-recently-tried first
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** A reserved attempt succeeded: the key starts over. */
  succeed(key: string): void {
    this.entries.delete(key);
  }

  /**
   * A reserved attempt succeeded but the key must keep the others' count (an
   * address shared by many users): give back just this attempt, and the
   * lockout it started if the count is free again.
   */
  refund(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.attempts = Math.max(0, entry.attempts - 1);
    if (entry.attempts <= this.options.free) entry.blockedUntil = 0;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.now().getTime() - entry.lastAttempt > this.options.forgetSeconds * 1000) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
