/** The one concurrency limiter: p-limit, and a helper for the common "map over items, N at a time". */
import pLimit from 'p-limit';

export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/** At most `concurrency` of the functions given to the limiter run at once. */
export function createLimiter(concurrency: number): Limiter {
  const limit = pLimit(Math.max(1, concurrency));
  return (fn) => limit(fn);
}

/** Runs `fn` over `items` with at most `concurrency` at once; starts no new ones once `signal` aborts. */
export async function forEachLimit<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const limit = createLimiter(concurrency);
  await Promise.all(items.map((item) => limit(async () => (signal?.aborted ? undefined : fn(item)))));
}
