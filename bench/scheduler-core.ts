/**
 * Micro-benchmark of the pure placement engine: 10,000 jobs onto 100 sim
 * clusters of 100 nodes, reservations committed after every placement (the
 * burst case). Prints decisions/s and per-decision p50/p99, plus a baseline
 * measured in the same run (one node scan per cluster per decision, no
 * summaries) to compare against.
 * Usage: node --import tsx bench/scheduler-core.ts [jobs] [clusters] [nodes]
 */
import { performance } from 'node:perf_hooks';
import { Reservations, Scheduler, commitPlacement, type SchedCluster, type SchedJob } from '../src/controllers/scheduler/index.js';

const [jobs = 10_000, clusterCount = 100, nodeCount = 100] = process.argv.slice(2).map(Number);

function makeClusters(): SchedCluster[] {
  const out: SchedCluster[] = [];
  for (let c = 0; c < clusterCount; c++) {
    const allocatable: Record<string, Record<string, number>> = {};
    for (let n = 0; n < nodeCount; n++) {
      allocatable[`node-${String(n).padStart(3, '0')}`] =
        n % 10 === 0 ? { cpus: 32, memory: 262_144, disk: 1e6, gpus: 8, A100: 8 } : { cpus: 16, memory: 65_536, disk: 5e5 };
    }
    out.push({
      name: `sim-${String(c).padStart(3, '0')}`,
      phase: c % 17 === 5 ? 'ERROR' : 'READY',
      labels: { env: c % 2 ? 'dev' : 'prod', zone: `z${c % 4}` },
      allocatable,
    });
  }
  return out;
}

function makeJob(i: number): SchedJob {
  const gpu = i % 20 === 0;
  return {
    namespace: 'default',
    name: `job-${i}`,
    uid: `uid-${i}`,
    replicas: 1 + (i % 4),
    resources: gpu ? { cpus: 4, memory: 16_384, A100: 1 } : { cpus: 1 + (i % 3), memory: 1024 * (1 + (i % 4)) },
    placement:
      i % 3 === 0
        ? {
            filters: [{ name: 'f', matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }],
            preferences: [{ name: 'p', matchLabels: { zone: 'z1' }, weight: 50 }],
          }
        : undefined,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function run(label: string, count: number, decide: (s: Scheduler, clusters: SchedCluster[], ledger: Reservations, job: SchedJob) => void): void {
  const clusters = makeClusters();
  const ledger = new Reservations();
  const scheduler = new Scheduler();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const job = makeJob(i);
    const t0 = performance.now();
    decide(scheduler, clusters, ledger, job);
    times.push(performance.now() - t0);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(28)} ${count} decisions in ${total.toFixed(0)} ms  ${((count / total) * 1000).toFixed(0)} decisions/s  p50 ${(percentile(times, 50) * 1000).toFixed(0)} µs  p99 ${(percentile(times, 99) * 1000).toFixed(0)} µs  max ${(percentile(times, 100) * 1000).toFixed(0)} µs  reserved ${ledger.size}`,
  );
}

console.log(`scheduler-core: ${jobs} jobs, ${clusterCount} clusters × ${nodeCount} nodes`);
// Baseline: a fresh Scheduler per decision, so no capacity summary survives between decisions.
// Capped at 1,000 decisions: it is ~50× slower and the machine is shared.
run('baseline (no summary cache)', Math.min(jobs, 1000), (_s, clusters, ledger, job) => {
  const d = new Scheduler().schedule({ clusters, job, reservations: ledger });
  if (d.kind === 'placed') commitPlacement(ledger, d);
});
run('scheduler (cached summaries)', jobs, (s, clusters, ledger, job) => {
  const d = s.schedule({ clusters, job, reservations: ledger });
  if (d.kind === 'placed') commitPlacement(ledger, d);
});
