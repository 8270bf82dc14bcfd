/**
 * Prometheus metrics for one server instance. A registry per instance (not
 * prom-client's global one) so several servers in one test process do not clash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store.js';

export interface ServerMetrics {
  readonly registry: Registry;
  observeRequest(method: string, route: string, code: number, seconds: number): void;
  setWatchers(kind: string, count: number): void;
  /** The same store, with every operation timed. */
  instrument(store: Store): Store;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'skyshift_http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'skyshift_http_request_duration_seconds',
    help: 'HTTP request latency (watches excluded) by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const watchers = new Gauge({
    name: 'skyshift_watchers',
    help: 'Open client watches by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const storeOps = new Histogram({
    name: 'skyshift_store_operation_duration_seconds',
    help: 'Store operation latency by operation and outcome',
    labelNames: ['op', 'outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });

  function timed<A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      const start = process.hrtime.bigint();
      let outcome = 'ok';
      try {
        return await fn(...args);
      } catch (err) {
        outcome = err instanceof Error && err.name === 'StoreError' ? String((err as { code?: unknown }).code) : 'error';
        throw err;
      } finally {
        storeOps.observe({ op, outcome }, Number(process.hrtime.bigint() - start) / 1e9);
      }
    };
  }

  return {
    registry,
    observeRequest(method, route, code, seconds) {
      requests.inc({ method, route, code: String(code) });
      latency.observe({ method, route }, seconds);
    },
    setWatchers(kind, count) {
      watchers.set({ kind }, count);
    },
    instrument(store) {
      return {
        backend: store.backend,
        get: timed('get', (key: string) => store.get(key)),
        list: timed('list', (prefix: string, options?: Parameters<Store['list']>[1]) => store.list(prefix, options)),
        create: timed('create', (key: string, value: Parameters<Store['create']>[1]) => store.create(key, value)),
        update: timed('update', (key: string, value: Parameters<Store['update']>[1], rev?: number) => store.update(key, value, rev)),
        delete: timed('delete', (key: string, rev?: number) => store.delete(key, rev)),
        watch: (prefix, after, signal) => store.watch(prefix, after, signal),
        compact: timed('compact', (rev: number) => store.compact(rev)),
        currentRevision: timed('currentRevision', () => store.currentRevision()),
        close: () => store.close(),
      };
    },
  };
}
