/**
 * The one backoff: exponential, capped, with jitter so that many clients
 * failing together (agents after a server restart, informers after a network
 * blip) do not retry together.
 */
export interface BackoffOptions {
  /** First delay (default 200 ms). */
  baseMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
  /** Fraction of each delay taken off at random, 0..1 (default 0.2: delays fall in [80%, 100%]). */
  jitter?: number;
  /** Injectable for tests. */
  random?: () => number;
}

const DEFAULTS = { baseMs: 200, maxMs: 30_000, jitter: 0.2 };

/** Delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? DEFAULTS.baseMs;
  const maxMs = options.maxMs ?? DEFAULTS.maxMs;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULTS.jitter));
  // Exponent capped so 2^n never overflows into Infinity for long-failing work.
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 52));
  return Math.round(full * (1 - jitter * (options.random ?? Math.random)()));
}

/** Per-key backoff: next() records one more failure of a key; forget() resets it after a success. */
export class KeyedBackoff<K> {
  private readonly failures = new Map<K, number>();

  constructor(private readonly options: BackoffOptions = {}) {}

  /** Record one more failure of `key` and return how long to wait before retrying it. */
  next(key: K): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return backoffDelay(n, this.options);
  }

  failuresOf(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: K): void {
    this.failures.delete(key);
  }
}
