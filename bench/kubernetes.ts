/**
 * npm run bench:kubernetes [-- --runs N] [--idle-seconds S] [--replicas R]
 *
 * Against a FAKE Kubernetes API server (test/infra/fake-kube: a real process
 * whose fake kubelet runs each pod as a local process), with `skyshift up
 * --heartbeat-seconds 1` using it as a kubeconfig context:
 *
 *   idle      requests SkyShift sends while the cluster sits idle for S seconds
 *             (default 300) after it is READY: the goal is its open watches and
 *             at most one probe per 30 s
 *   job       requests from submitting an R-replica job (default 100) until it
 *             is COMPLETED: the goal is at most 2 per replica plus a constant
 *   latency   submit-to-RUNNING, median of N (default 20): `kubectl create -f`
 *             of a pod vs a 1-replica SkyShift job of the same pod; both timed
 *             until the pod is Running, as seen by one watch on the fake; the
 *             SkyShift row also until the job's own status says RUNNING
 *
 * Runs of the two latency paths are interleaved so load drift hits both.
 * Prints a Markdown block for docs/benchmarks.md. Everything started is stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startFakeKube, writeKubeconfig, type FakeKube } from '../test/infra/fake-kube/index.js';
import { startSkyShift, type SkyShiftInstance } from '../test/infra/skyshift.js';
import { describeMachine } from './lib/machine.js';

const run = promisify(execFile);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 20);
const IDLE_SECONDS = arg('--idle-seconds', 300);
const REPLICAS = arg('--replicas', 100);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Pod name -> when it was first seen Running, from one watch on the fake's pods. */
async function watchRunning(url: string, signal: AbortSignal): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const res = await fetch(`${url}/api/v1/pods?watch=true`, { signal });
  if (!res.body) throw new Error('no watch body');
  const lines = createInterface({ input: (await import('node:stream')).Readable.fromWeb(res.body as never) });
  void (async () => {
    try {
      for await (const line of lines) {
        const ev = JSON.parse(line) as { object: { metadata: { name: string }; status?: { phase?: string } } };
        if (ev.object.status?.phase === 'Running' && !seen.has(ev.object.metadata.name)) seen.set(ev.object.metadata.name, performance.now());
      }
    } catch {
      /* aborted */
    }
  })();
  return seen;
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const show = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

async function main(): Promise<void> {
  const machine = describeMachine();
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-bench-kube-'));
  let fake: FakeKube | undefined;
  let sky: SkyShiftInstance | undefined;
  const abort = new AbortController();
  try {
    fake = await startFakeKube({ dir: join(dir, 'fake'), nodes: [{ name: 'big', cpu: '256', memory: '512Gi' }] });
    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, [{ name: 'bench', server: fake.url }]);
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'], env: { KUBECONFIG: kubeconfig } });
    const c = sky.client;
    await until('cluster READY', async () => ((await c.get('clusters', 'bench')).status?.['phase'] === 'READY' ? true : undefined), 60_000, 200);

    // Idle: what SkyShift costs a quiet cluster.
    await sleep(3000);
    await fake.resetRequests();
    await sleep(IDLE_SECONDS * 1000);
    const idle = await fake.requests();

    // One R-replica job from submit to COMPLETED.
    await fake.resetRequests();
    const t0 = performance.now();
    await c.create(
      'jobs',
      { kind: 'Job', metadata: { name: 'wide' }, spec: { run: 'sleep 1', replicas: REPLICAS, resources: { cpus: 0.1, memory: 16 } } },
      { namespace: 'default' },
    );
    await until(
      'wide COMPLETED',
      async () => ((await c.get('jobs', 'wide', { namespace: 'default' })).status?.['phase'] === 'COMPLETED' ? true : undefined),
      300_000,
      100,
    );
    const wideMs = performance.now() - t0;
    const wide = await fake.requests();
    await c.delete('jobs', 'wide', { namespace: 'default' });

    // Latency: kubectl create vs SkyShift, interleaved.
    const running = await watchRunning(fake.url, abort.signal);
    const direct: number[] = [];
    const viaSky: number[] = [];
    const viaSkyStatus: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const pod = `direct-${i}`;
      const file = join(dir, `${pod}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'ubuntu:22.04', command: ['/bin/sh', '-c', 'sleep 30'], resources: { requests: { cpu: '1' } } }],
          },
        }),
      );
      const d0 = performance.now();
      await run('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', file]);
      direct.push((await until(`${pod} Running`, () => running.get(pod))) - d0);
      await run('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'pod', pod, '--wait=false']);

      const name = `lat-${i}`;
      const s0 = performance.now();
      await c.create(
        'jobs',
        { kind: 'Job', metadata: { name }, spec: { run: 'sleep 30', replicas: 1, resources: { cpus: 1, memory: 64 } } },
        { namespace: 'default' },
      );
      const podRunning = await until(`${name} pod Running`, () => [...running].find(([n]) => n.startsWith(`${name}-`))?.[1]);
      viaSky.push(podRunning - s0);
      await until(`${name} RUNNING`, async () => {
        const rs = (await c.get('jobs', name, { namespace: 'default' })).status?.['replicaStatus'] as Record<string, Record<string, number>> | undefined;
        return rs?.['bench']?.['RUNNING'] ? true : undefined;
      });
      viaSkyStatus.push(performance.now() - s0);
      await c.delete('jobs', name, { namespace: 'default' });
    }

    const perReplica = (total(wide) / REPLICAS).toFixed(2);
    console.log(
      [
        `### Kubernetes manager against the fake API server (${new Date().toISOString().slice(0, 10)})`,
        '',
        `Machine: ${machine}. One fake Kubernetes API server (test/infra/fake-kube, own process; 1 node, 256 cpus), \`skyshift up --heartbeat-seconds 1\` with it as a kubeconfig context.`,
        '',
        '| measure | result |',
        '|---|---|',
        `| requests while idle for ${IDLE_SECONDS} s after READY | ${total(idle)} (${show(idle)}) |`,
        `| requests for a ${REPLICAS}-replica job, submit to COMPLETED (${(wideMs / 1000).toFixed(1)} s) | ${total(wide)} = ${perReplica} per replica (${show(wide)}) |`,
        `| submit-to-Running, \`kubectl create -f\` (median of ${RUNS}) | ${median(direct).toFixed(0)} ms |`,
        `| submit-to-Running, SkyShift job -> pod Running (median of ${RUNS}) | ${median(viaSky).toFixed(0)} ms (${(median(viaSky) / median(direct)).toFixed(2)}x) |`,
        `| submit-to-RUNNING, SkyShift job status says RUNNING (median of ${RUNS}) | ${median(viaSkyStatus).toFixed(0)} ms (${(median(viaSkyStatus) / median(direct)).toFixed(2)}x) |`,
        '',
      ].join('\n'),
    );
  } finally {
    abort.abort();
    await sky?.cleanup();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
