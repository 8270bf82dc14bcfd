/** GET /{namespace}/jobs/{name}/logs: chunked text from the attached logs provider. */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, storageKey, type ApiObject } from '../api/index.js';
import { caughtUp, type LogOptions, type ServerContext } from './context.js';
import type { Query } from './resources.js';
import type { Target } from './router.js';

/** How long to wait for a provider's first chunk before sending the headers of a (quiet) stream. */
const FIRST_CHUNK_WAIT_MS = 250;

export async function prepareLogs(
  ctx: ServerContext,
  target: Target & { type: 'logs' },
  query: Query,
): Promise<(res: ServerResponse, onClose: (fn: () => void) => void) => Promise<void>> {
  const cache = await caughtUp(ctx, target.kind);
  const job = cache.get(storageKey(target.kind, target.namespace, target.name));
  if (!job) throw new ApiError('NotFound', `job '${target.namespace}/${target.name}' not found`);
  const provider = ctx.logs;
  if (!provider) throw new ApiError('ServiceUnavailable', 'logs are not available: no controllers/managers attached');
  const options: LogOptions = { follow: query.follow === 'true' || query.follow === '1' };
  if (query.tail !== undefined && query.tail !== '') {
    if (!/^\d{1,9}$/.test(query.tail)) throw badRequest(`tail '${query.tail}' must be a non-negative integer`);
    options.tail = Number(query.tail);
  }
  if (query.cluster) options.cluster = query.cluster;
  if (query.task) options.task = query.task;
  const obj: ApiObject = job.obj;

  const abort = new AbortController();
  const chunks = provider(obj, options, abort.signal)[Symbol.asyncIterator]();
  // Providers reject bad requests (job not placed, unknown cluster or task) as
  // soon as they start: wait briefly for the first chunk so those become a
  // proper Status response instead of text inside a 200.
  const first = chunks.next();
  const early = await Promise.race([
    first.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    ),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), FIRST_CHUNK_WAIT_MS).unref()),
  ]);
  if (early && 'error' in early) {
    abort.abort();
    throw early.error instanceof ApiError ? early.error : badRequest(early.error instanceof Error ? early.error.message : String(early.error));
  }

  return async (res, onClose) => {
    const stop = () => abort.abort();
    onClose(stop);
    ctx.signal.addEventListener('abort', stop, { once: true });
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    // A follow on a quiet job may not write for a long time: send the headers now.
    res.flushHeaders();
    try {
      for (let next = early ? early.result : await first; !next.done; next = await chunks.next()) {
        if (abort.signal.aborted) break;
        if (!res.write(next.value))
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            abort.signal.addEventListener('abort', () => resolve(), { once: true });
          });
      }
    } catch (err) {
      // Headers are gone; the best we can do is say so in the text stream.
      if (!abort.signal.aborted) res.write(`\nerror: ${err instanceof Error ? err.message : String(err)}\n`);
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      if (abort.signal.aborted) void chunks.return?.(undefined);
      res.end();
    }
  };
}
