/**
 * The operational routes (/healthz, /readyz, /version, /metrics,
 * /openapi.json). They are dispatched from the one catch-all route on the
 * Router's target, like every other path, so they are reached under exactly
 * the spellings the auth gate decided on (a separate Fastify route would be
 * matched by Fastify's own decoding, e.g. "/m%65trics", which the gate never saw).
 */
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import { ApiError, buildOpenApiDocument } from '../api/index.js';
import { createObjectGauges } from './metrics.js';
import type { OperationRoute } from './router.js';
import type { Store } from './store.js';
import type { KindCache } from './watch-cache.js';

export interface OperationsOptions {
  store: Store;
  caches: ReadonlyMap<string, KindCache>;
  version: string;
  backend: string;
  /** The server's own registry first, then any other (auth, in-process controllers), merged per scrape. */
  registries: () => Registry[];
}

export type Operation = (route: OperationRoute, method: string, reply: FastifyReply) => Promise<FastifyReply>;

export function createOperations(options: OperationsOptions): Operation {
  let openapi: string | undefined;
  const objectGauges = createObjectGauges(
    (plural) =>
      options.caches
        .get(plural)
        ?.list('')
        .items.map((c) => c.obj) ?? [],
  );
  return async (route, method, reply) => {
    // HEAD is a GET without a body (Node drops the body of a HEAD answer).
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError('MethodNotAllowed', `${method} is not allowed on ${route}`);
    switch (route) {
      case '/healthz':
        return reply.type('text/plain').send('ok');
      case '/readyz': {
        const unsynced = [...options.caches.values()].filter((c) => !c.synced).map((c) => c.kind.plural);
        if (unsynced.length > 0) throw new ApiError('ServiceUnavailable', `caches not synced: ${unsynced.join(', ')}`);
        try {
          await withTimeout(options.store.currentRevision(), 2_000);
        } catch {
          throw new ApiError('ServiceUnavailable', 'store is not reachable');
        }
        return reply.type('text/plain').send('ok');
      }
      case '/version':
        return reply.send({ version: options.version, node: process.version, store: options.backend });
      case '/metrics': {
        const registries = [...options.registries(), objectGauges];
        // merge() throws on a metric name two registries share: that is a wiring bug, and it surfaces at once.
        const registry = Registry.merge(registries);
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      }
      case '/openapi.json':
        openapi ??= JSON.stringify(buildOpenApiDocument(options.version));
        return reply.type('application/json').send(openapi);
    }
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
