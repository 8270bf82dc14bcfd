/**
 * Prometheus metrics for one server instance. A registry per instance (not
 * prom-client's global one) so several servers in one test process do not clash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_PHASES, type ApiObject } from '../api/index.js';
import type { Store } from './store.js';

export interface ServerMetrics {
  readonly registry: Registry;
  observeRequest(method: string, route: string, code: number, seconds: number): void;
  setWatchers(kind: string, count: number): void;
  /** The same store, with every operation timed. */
  instrument(store: Store): Store;
}

type NodeMap = Record<string, Record<string, number>>;

/** Per cluster: the sum over nodes of each resource. */
function sumByResource(nodes: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!nodes || typeof nodes !== 'object') return out;
  for (const node of Object.values(nodes as NodeMap)) {
    if (!node || typeof node !== 'object') continue;
    for (const [k, v] of Object.entries(node)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
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

/**
 * Gauges read from the watch caches at scrape time (no bookkeeping on the hot
 * path): jobs by phase, per-cluster capacity and allocatable summed over
 * nodes, and the age of each cluster's last heartbeat.
 */
export function createObjectGauges(list: (plural: string) => readonly ApiObject[]): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'skyshift_jobs',
    help: 'Jobs by phase (all namespaces)',
    labelNames: ['phase'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(JOB_PHASES.map((p) => [p, 0]));
      for (const job of list('jobs')) {
        const phase = String((job.status as { phase?: unknown } | undefined)?.phase ?? 'INIT');
        counts.set(phase, (counts.get(phase) ?? 0) + 1);
      }
      this.reset();
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  const clusterGauge = (name: string, help: string, field: 'capacity' | 'allocatable') =>
    new Gauge({
      name,
      help,
      labelNames: ['cluster', 'resource'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of list('clusters')) {
          const totals = sumByResource((c.status as Record<string, unknown> | undefined)?.[field]);
          for (const [resource, v] of Object.entries(totals)) this.set({ cluster: c.metadata.name, resource }, v);
        }
      },
    });
  clusterGauge('skyshift_cluster_capacity', 'Cluster capacity summed over its nodes, by resource (memory and disk in MiB)', 'capacity');
  clusterGauge('skyshift_cluster_allocatable', 'Free capacity of a cluster summed over its nodes, by resource, as its last heartbeat reported', 'allocatable');
  new Gauge({
    name: 'skyshift_cluster_heartbeat_age_seconds',
    help: "Seconds since the cluster's last heartbeat snapshot (lastHeartbeatTime)",
    labelNames: ['cluster', 'phase'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const c of list('clusters')) {
        const status = (c.status ?? {}) as { lastHeartbeatTime?: string; phase?: string };
        const at = Date.parse(status.lastHeartbeatTime ?? '');
        if (!Number.isNaN(at)) this.set({ cluster: c.metadata.name, phase: status.phase ?? 'INIT' }, Math.max(0, (now - at) / 1000));
      }
    },
  });
  return registry;
}
