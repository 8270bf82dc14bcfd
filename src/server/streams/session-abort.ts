/** What exec and port-forward share before their upgrade: one abort per stream, tied to the server's shutdown. */
import { ApiError } from '../../api/index.js';

/** An AbortController that the server shutting down aborts too: a stream ends then, not when its client answers the close. */
export function streamAbort(serverSignal: AbortSignal): AbortController {
  const abort = new AbortController();
  const stop = () => abort.abort();
  serverSignal.addEventListener('abort', stop, { once: true });
  abort.signal.addEventListener('abort', () => serverSignal.removeEventListener('abort', stop), { once: true });
  return abort;
}

/** Starts a stream with the manager; a failure aborts it and becomes a Status (503 unless the manager gave its own). */
export async function startStream<T>(abort: AbortController, what: string, start: Promise<T>): Promise<T> {
  try {
    return await start;
  } catch (err) {
    abort.abort();
    throw err instanceof ApiError ? err : new ApiError('ServiceUnavailable', `${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
