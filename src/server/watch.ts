/**
 * Client watches over HTTP: chunked NDJSON, written straight to the socket.
 * Each event line is built once by the cache and the same string goes to
 * every watcher; a watcher whose unsent bytes pass the limit is closed and
 * resumes from its last resourceVersion.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, storageKey, type ApiObject } from '../api/index.js';
import { caughtUp, type ServerContext } from './context.js';
import { selectorOf, type Query } from './resources.js';
import type { Target } from './router.js';
import type { WatchFilter } from './watchers.js';

/** Validates everything that can fail before the response starts, then streams until done. */
export async function prepareWatch(
  ctx: ServerContext,
  target: Target & { type: 'collection' | 'object' },
  query: Query,
  /** Which objects the caller may see at all (an agent token's scope); absent: all. */
  visible?: (obj: ApiObject) => boolean,
): Promise<(res: ServerResponse, onClose: (fn: () => void) => void) => void> {
  if (query.sendInitialEvents !== undefined) {
    // client-go would otherwise wait forever for the initial-events-end bookmark.
    throw badRequest('sendInitialEvents is not supported: list, then watch from the list resourceVersion');
  }
  const selector = selectorOf(query);
  const from = revisionOf(query.resourceVersion);
  const timeoutMs = timeoutOf(ctx, query.timeoutSeconds);
  const { kind } = target;
  // "0" means "any state", like Kubernetes: the same as no resourceVersion here.
  const fromRevision = from === 0 ? undefined : from;
  const cache = await caughtUp(ctx, kind);
  const filter: WatchFilter = { prefix: storageKey(kind, target.namespace) };
  if (target.type === 'object') filter.key = storageKey(kind, target.namespace, target.name);
  if (selector) filter.selector = selector;
  if (visible) filter.visible = visible;

  return (res, onClose) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, no-store',
      'x-content-type-options': 'nosniff',
    });
    let closed = false;
    let stop = () => {};
    const end = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      stop();
      res.end();
    };
    const timer = setTimeout(end, timeoutMs);
    onClose(end);
    const started = cache.watch(
      filter,
      {
        write(line) {
          if (closed) return false;
          res.write(line);
          return res.writableLength <= ctx.watchBufferBytes;
        },
        close() {
          // The cache has already dropped us; just end the response.
          stop = () => {};
          end();
        },
      },
      fromRevision,
    );
    if (!started.ok) {
      const status = new ApiError(
        'Gone',
        `too old resource version: ${fromRevision} (oldest available ${started.oldest}); list again and watch from the list's resourceVersion`,
      ).toStatus();
      res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      end();
      return;
    }
    if (closed) started.stop();
    else stop = started.stop;
    // Node holds the headers until the first body write; with nothing to replay
    // (empty namespace, selector matching nothing) the client would see no
    // response at all and could not tell an accepted watch from a hung server.
    // (headersSent is already true after writeHead; flushing after a replay is a no-op.)
    if (!closed) res.flushHeaders();
  };
}

function revisionOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`resourceVersion '${text}' is not a valid resource version`);
  return Number(text);
}

function timeoutOf(ctx: ServerContext, text: string | undefined): number {
  if (text === undefined || text === '') return ctx.watchTimeoutMs();
  if (!/^\d{1,7}$/.test(text)) throw badRequest(`timeoutSeconds '${text}' must be a non-negative integer`);
  const seconds = Number(text);
  return seconds === 0 ? ctx.watchTimeoutMs() : seconds * 1000;
}

export function isWatch(query: Query): boolean {
  const w = query.watch;
  if (w === undefined) return false;
  if (w === 'true' || w === '1') return true;
  if (w === 'false' || w === '0' || w === '') return false;
  throw badRequest(`watch '${w}' must be true or false`);
}
