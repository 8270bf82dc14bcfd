/**
 * npm run bench:slurm [-- --runs N] — submit-to-RUNNING latency on a real
 * Slurm (test/infra/slurm.ts), median of N (default 50) each:
 *
 *   direct    `sbatch --wrap` then `squeue -j` every 20 ms until RUNNING (the baseline)
 *   manager   SlurmManager.submit() then tasks() every 20 ms until RUNNING
 *   skyshift  `skyshift up --no-local-cluster --heartbeat-seconds 1` with a slurm
 *             cluster: create Job through the API, poll it until a replica is RUNNING
 *
 * Runs are interleaved (direct, manager, direct, ...) so drift in machine load
 * hits both alike; each job is cancelled and gone before the next starts.
 * Prints a Markdown block for docs/benchmarks.md. Everything started is stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SlurmManager } from '../src/managers/index.js';
import { testJob } from '../test/support/jobs.js';
import { startSlurm, type SlurmInstance } from '../test/infra/slurm.js';
import { describeMachine } from './lib/machine.js';

const run = promisify(execFile);
const argRuns = process.argv.indexOf('--runs');
const RUNS = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 50;
const POLL_MS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

async function idle(slurm: SlurmInstance): Promise<void> {
  for (;;) {
    const r = await run('squeue', ['-h', '-o', '%i'], { env: { ...process.env, ...slurm.env } });
    if (r.stdout.trim() === '') return;
    await sleep(50);
  }
}

async function direct(slurm: SlurmInstance, dir: string): Promise<number> {
  const env = { ...process.env, ...slurm.env };
  const t0 = performance.now();
  const id = (
    await run('sbatch', ['--parsable', '--ntasks=1', '--cpus-per-task=1', '--mem=64M', `--output=${dir}/%j.out`, '--wrap', 'sleep 30'], { env })
  ).stdout.trim();
  for (;;) {
    const st = (await run('squeue', ['-h', '-j', id, '-o', '%T'], { env })).stdout.trim();
    if (st === 'RUNNING') break;
    await sleep(POLL_MS);
  }
  const dt = performance.now() - t0;
  await run('scancel', [id], { env });
  return dt;
}

async function viaManager(m: SlurmManager, i: number): Promise<number> {
  const job = testJob(`bench-${i}`, { run: 'sleep 30', resources: { cpus: 1, memory: 64 } }, { uid: `bench-${i}-${Date.now()}` });
  const t0 = performance.now();
  await m.submit(job, { ranks: [0] });
  for (;;) {
    const t = (await m.tasks()).find((x) => x.uid === job.metadata.uid);
    if (t?.tasks[`bench-${i}-0`] === 'RUNNING') break;
    await sleep(POLL_MS);
  }
  const dt = performance.now() - t0;
  await m.cancel({ uid: job.metadata.uid ?? '', namespace: 'default', name: job.metadata.name });
  return dt;
}

async function viaSkyShift(slurm: SlurmInstance, workdir: string, runs: number): Promise<number[]> {
  const { startSkyShift } = await import('../test/infra/skyshift.js');
  const sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
  try {
    const c = sky.client;
    await c.create('clusters', {
      kind: 'Cluster',
      metadata: { name: 'hpc' },
      spec: { manager: 'slurm', config: { interface: 'cli', env: slurm.env, workdir } },
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const cl = await c.get('clusters', 'hpc');
      if (cl.status?.['phase'] === 'READY') break;
      if (Date.now() > deadline) throw new Error(`slurm cluster not READY after 60 s (phase ${String(cl.status?.['phase'])})`);
      await sleep(200);
    }
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `e2e-${i}`;
      const t0 = performance.now();
      await c.create(
        'jobs',
        { kind: 'Job', metadata: { name }, spec: { run: 'sleep 30', replicas: 1, resources: { cpus: 1, memory: 64 } } },
        { namespace: 'default' },
      );
      const jd = Date.now() + 60_000;
      for (;;) {
        const j = await c.get('jobs', name, { namespace: 'default' });
        if (Object.values((j.status?.['replicaStatus'] ?? {}) as Record<string, Record<string, number>>).some((s) => (s['RUNNING'] ?? 0) > 0)) break;
        if (Date.now() > jd) throw new Error(`job ${name} not RUNNING after 60 s`);
        await sleep(POLL_MS);
      }
      out.push(performance.now() - t0);
      await c.delete('jobs', name, { namespace: 'default' });
      await idle(slurm);
    }
    return out;
  } finally {
    await sky.stop();
  }
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const slurm = await startSlurm({ cpus: 4, rest: false });
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-bench-slurm-'));
  const d: number[] = [];
  const m: number[] = [];
  let e2e: number[] = [];
  let e2eNote = '';
  try {
    const manager = new SlurmManager({ name: 'hpc', interface: 'cli', env: slurm.env, workdir: join(dir, 'mgr') });
    await manager.connect();
    await direct(slurm, dir); // warm-up
    await idle(slurm);
    for (let i = 0; i < RUNS; i++) {
      d.push(await direct(slurm, dir));
      await idle(slurm);
      m.push(await viaManager(manager, i));
      await idle(slurm);
    }
    try {
      e2e = await viaSkyShift(slurm, join(dir, 'e2e'), RUNS);
    } catch (err) {
      e2eNote = `not measured: ${(err as Error).message.split('\n')[0]}`;
    }
  } finally {
    await slurm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (label: string, xs: number[]) =>
    `| ${label} | ${xs.length} | ${median(xs).toFixed(0)} | ${p(xs, 0.9).toFixed(0)} | ${(median(xs) / median(d)).toFixed(2)}x |`;
  console.log(
    [
      `### Slurm submit-to-RUNNING (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine}. Slurm 22.05 (Debian) started by test/infra/slurm.ts, 1 node, 4 CPUs, sched_min_interval=100 ms; 1-cpu jobs, polled every ${POLL_MS} ms.`,
      '',
      '| path | runs | median ms | p90 ms | vs direct |',
      '|---|---|---|---|---|',
      row('direct `sbatch` + `squeue`', d),
      row('SlurmManager (cli) submit + tasks', m),
      e2e.length > 0 ? row('SkyShift end to end (API create -> replica RUNNING, heartbeat 1 s)', e2e) : `| SkyShift end to end | - | - | - | ${e2eNote} |`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
