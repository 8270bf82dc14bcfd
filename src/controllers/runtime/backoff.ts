/** Per-key exponential backoff: base × 2^(failures-1), capped; forget() resets a key after success. */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

export class KeyedBackoff<K> {
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly failures = new Map<K, number>();

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 5;
    this.maxMs = options.maxMs ?? 60_000;
  }

  /** Record one more failure of `key` and return how long to wait before retrying it. */
  next(key: K): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    // Exponent capped so 2^n never overflows into Infinity for long-failing keys.
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n - 1, 52));
  }

  failuresOf(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: K): void {
    this.failures.delete(key);
  }
}
