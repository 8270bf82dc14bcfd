/** Translate etcd3/grpc failures into StoreError so nothing etcd-specific leaks out. */
import { StoreError } from '../types.js';

const UNAVAILABLE = new Set([
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCCancelledError',
  'ClientClosedError',
  'BrokenCircuitError',
  'TaskCancelledError',
]);

export function toStoreError(err: unknown, what: string): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof Error) {
    const name = err.constructor.name;
    // Connection-level failures surface under several classes; the message is the stable part for the rest.
    if (UNAVAILABLE.has(name) || /unavailable|ECONNREFUSED|No connection established|circuit|deadline/i.test(err.message)) {
      return new StoreError('Unavailable', `etcd unavailable during ${what}: ${err.message}`);
    }
  }
  return err;
}

export async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStoreError(err, what);
  }
}
