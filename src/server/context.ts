/** What the request handlers share: the store, the kinds, and one cache per kind. */
import type { ApiObject, KindInfo } from '../api/index.js';
import { ApiError } from '../api/index.js';
import type { Router } from './router.js';
import type { Store } from './store.js';
import type { KindCache } from './watch-cache.js';

export interface LogOptions {
  follow: boolean;
  tail?: number;
  cluster?: string;
  task?: string;
}

/** Streams a job's logs; wired by whoever attaches controllers/managers. */
export type LogsProvider = (job: ApiObject, options: LogOptions, signal: AbortSignal) => AsyncIterable<string>;

/** One running command in a task (the manager's ExecSession, seen structurally: the server does not import managers). */
export interface ExecStreams {
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  exitCode: Promise<number>;
  resize?(columns: number, rows: number): void;
}

/** Which task a stream reached: named by the client, or the first (`defaulted`) of `tasks`. */
export interface StreamTarget {
  task: string;
  cluster: string;
  defaulted: boolean;
  tasks: number;
}

/** Exec and port-forward into a job's tasks; wired, like logs, by whoever attaches managers (src/bin/wire-managers.ts). */
export interface StreamsProvider {
  exec(
    job: ApiObject,
    options: { task?: string; command: string[]; tty: boolean; signal: AbortSignal },
  ): Promise<{ target: StreamTarget; session: ExecStreams }>;
  portForward(
    job: ApiObject,
    options: { task?: string; port: number; signal: AbortSignal },
  ): Promise<{ target: StreamTarget; stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } }>;
}

export interface ServerContext {
  readonly store: Store;
  readonly kinds: readonly KindInfo[];
  readonly router: Router;
  readonly caches: ReadonlyMap<string, KindCache>;
  readonly logs: LogsProvider | undefined;
  readonly streams: StreamsProvider | undefined;
  readonly now: () => Date;
  /** How long a read waits for the cache to catch up with this server's writes. */
  readonly readTimeoutMs: number;
  /** Default watch length when the client gives no timeoutSeconds. */
  readonly watchTimeoutMs: () => number;
  /** Bytes a watcher may have unsent before it is closed as too slow. */
  readonly watchBufferBytes: number;
  /** Aborted when the server shuts down: ends watches and log streams. */
  readonly signal: AbortSignal;
  /** Highest revision this server wrote per plural: reads wait for the cache to reach it. */
  readonly lastWrite: Map<string, number>;
}

export function cacheFor(ctx: ServerContext, kind: KindInfo): KindCache {
  const cache = ctx.caches.get(kind.plural);
  if (!cache) throw new ApiError('InternalError', `no cache for ${kind.plural}`);
  return cache;
}

export function noteWrite(ctx: ServerContext, kind: KindInfo, revision: number): void {
  if (revision > (ctx.lastWrite.get(kind.plural) ?? 0)) ctx.lastWrite.set(kind.plural, revision);
}

/**
 * Read-your-writes: wait until the cache has applied every write this server
 * made to the kind (and the client's resourceVersion, if newer), so a GET or
 * list right after a POST sees it.
 */
export async function caughtUp(ctx: ServerContext, kind: KindInfo, minRevision = 0): Promise<KindCache> {
  const cache = cacheFor(ctx, kind);
  const target = Math.max(ctx.lastWrite.get(kind.plural) ?? 0, minRevision);
  if (cache.synced && cache.revision >= target) return cache;
  const ok = await cache.waitUntil(() => cache.synced && cache.revision >= target, ctx.readTimeoutMs);
  if (!ok) {
    throw new ApiError('ServiceUnavailable', `the ${kind.plural} cache has not caught up with revision ${target}; retry`);
  }
  return cache;
}
