/**
 * Prometheus metrics of the controller manager. One registry per process (the
 * controllers run once per process), separate from the API server's
 * per-instance registry: `skyshift up` appends it to the server's /metrics,
 * `skyshift controllers --metrics-port` serves it on its own.
 */
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { liveQueues } from './workqueue.js';

export const controllerRegistry = new Registry();

/** Buckets down to 10 µs: an uncontended decision takes well under a millisecond. */
const DECISION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export const decisionHistogram = new Histogram({
  name: 'skyshift_scheduler_decision_duration_seconds',
  help: 'Time the placement engine takes for one decision (filter, score, spread), excluding I/O',
  labelNames: ['result'] as const,
  buckets: DECISION_BUCKETS,
  registers: [controllerRegistry],
});

/** Exact quantiles over the last 10 minutes; buckets only bound them. */
export const decisionSummary = new Summary({
  name: 'skyshift_scheduler_decision_seconds',
  help: 'Placement engine decision time, quantiles over a sliding 10 minute window',
  percentiles: [0.5, 0.9, 0.99, 0.999],
  maxAgeSeconds: 600,
  ageBuckets: 5,
  registers: [controllerRegistry],
});

export const pendingGauge = new Gauge({
  name: 'skyshift_scheduler_pending_jobs',
  help: 'Jobs waiting in the scheduler queue',
  registers: [controllerRegistry],
});

export const statusWrites = new Counter({
  name: 'skyshift_scheduler_status_writes_total',
  help: 'Job status writes by the scheduler, by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  registers: [controllerRegistry],
});

export const eventsSuppressed = new Counter({
  name: 'skyshift_controller_events_suppressed_total',
  help: 'Routine events (Scheduled, Submitted, Started) not written because they came faster than the event rate limit',
  labelNames: ['reason'] as const,
  registers: [controllerRegistry],
});

new Gauge({
  name: 'skyshift_controller_workqueue_depth',
  help: "Keys waiting, delayed or in process in the controllers' work queues, by queue (skylet-<cluster>: submits and cancels)",
  labelNames: ['queue'] as const,
  registers: [controllerRegistry],
  collect() {
    this.reset();
    const sums = new Map<string, number>();
    for (const q of liveQueues) sums.set(q.name, (sums.get(q.name) ?? 0) + q.depth);
    for (const [queue, n] of sums) this.set({ queue }, n);
  },
});

export const leaderGauge = new Gauge({
  name: 'skyshift_controller_leader',
  help: 'Whether this process leads the controller group of this Lease (1) or stands by (0)',
  labelNames: ['lease'] as const,
  registers: [controllerRegistry],
});

export function observeDecision(seconds: number, placed: boolean): void {
  decisionHistogram.observe({ result: placed ? 'placed' : 'pending' }, seconds);
  decisionSummary.observe(seconds);
}
