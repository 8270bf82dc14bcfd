/**
 * Read-modify-write of an object's status with optimistic concurrency: several
 * writers (the scheduler, one skylet per cluster) update one Job, so every
 * write carries the resourceVersion it was computed from and a Conflict means
 * "re-read and re-apply", never "overwrite".
 */
import { ApiError, type ApiObject, type SkyShiftClient } from '../../client/index.js';

export interface MutateOptions {
  signal?: AbortSignal;
  /** Attempts before giving up (the caller's queue retries later). Default 5. */
  attempts?: number;
}

/**
 * Applies `mutate` to a copy of `current` (then to fresh copies after each
 * Conflict) and writes the status. The copy is shallow below `status`:
 * `mutate` replaces fields, it does not edit nested objects in place. `mutate` returns false when nothing needs
 * writing. Resolves to the stored object, `current`-like when unchanged, or
 * undefined when the object is gone.
 */
export async function mutateStatus<T extends ApiObject>(
  client: SkyShiftClient,
  plural: string,
  current: T,
  mutate: (obj: T) => boolean,
  options: MutateOptions = {},
): Promise<T | undefined> {
  let base: T = current;
  const attempts = options.attempts ?? 5;
  for (let i = 0; ; i++) {
    // A copy of the object and its status only: `mutate` must replace the status fields it changes (spread,
    // setCondition, ...) and never edit nested objects in place, which would change the informer's cached copy.
    // Deep-cloning every job on every write was a large share of the GC load under a 10,000-job burst.
    const copy = { ...base, status: { ...(base.status ?? {}) } } as T;
    if (!mutate(copy)) return base;
    try {
      return await client.updateStatus<T>(plural, copy, { signal: options.signal });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.reason === 'NotFound') return undefined;
      if (err.reason !== 'Conflict' || i + 1 >= attempts) throw err;
      try {
        base = await client.get<T>(plural, current.metadata.name, { namespace: current.metadata.namespace, signal: options.signal });
      } catch (getErr) {
        if (getErr instanceof ApiError && getErr.reason === 'NotFound') return undefined;
        throw getErr;
      }
    }
  }
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'Conflict';
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'NotFound';
}
