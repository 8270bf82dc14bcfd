/** Runs `fn` over `items` with at most `limit` at once; stops starting new ones once `signal` aborts. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
