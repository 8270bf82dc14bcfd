/**
 * Smoke test of the main path: a real `skyshift up` process (SQLite, local
 * cluster, controllers) in a private HOME; a 2-replica job runs to COMPLETED
 * and its logs hold every replica's output. Stops skyshift with SIGTERM and
 * checks no replica process is left.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'skyshift-smoke-'));
let child: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      if (a === null || typeof a === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(a.port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; skyshift log:\n${readFileSync(join(home, 'up.log'), 'utf8').split('\n').slice(-20).join('\n')}`);
}

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
  }
  rmSync(home, { recursive: true, force: true });
});

test('skyshift up runs a 2-replica job to COMPLETED and serves its logs', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { openSync } = await import('node:fs');
  const log = openSync(join(home, 'up.log'), 'a');
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/bin/skyshift.ts'),
      'up',
      '--port',
      String(port),
      '--store',
      `sqlite:${join(home, 'db')}`,
      '--heartbeat-seconds',
      '1',
      '--local-cpus',
      '2',
      '--local-memory',
      '2Gi',
    ],
    { cwd: ROOT, env: { ...process.env, HOME: home }, stdio: ['ignore', log, log] },
  );
  // `up` writes the current context (with the admin token when auth is on) before it starts the controllers.
  const configFile = join(home, '.skyconf', 'config.yaml');
  const context = await until('the skyctl context', async () => {
    const cfg = YAML.parse(readFileSync(configFile, 'utf8')) as { 'current-context': string; contexts: { name: string; server: string; token?: string }[] };
    return cfg.contexts.find((c) => c.name === cfg['current-context'] && c.server === url);
  });
  const headers: Record<string, string> = context.token ? { authorization: `Bearer ${context.token}` } : {};
  const fetch = (path: string, init: RequestInit = {}) =>
    globalThis.fetch(path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const cluster = await until('the local cluster READY', async () => {
    const res = await fetch(`${url}/clusters`);
    const list = (await res.json()) as { items: { metadata: { name: string }; status: { phase: string; capacity: Record<string, { cpus: number }> } }[] };
    return list.items.find((c) => c.status.phase === 'READY');
  });
  assert.deepEqual(
    Object.values(cluster.status.capacity).map((n) => n.cpus),
    [2],
  );

  const created = await fetch(`${url}/default/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'Job',
      metadata: { name: 'hello' },
      spec: { run: 'echo "Sky! from $SKYSHIFT_REPLICA"; sleep 1', replicas: 2, resources: { cpus: 1, memory: 64 } },
    }),
  });
  assert.equal(created.status, 201, await created.text());

  const job = await until('the job COMPLETED', async () => {
    const j = (await (await fetch(`${url}/default/jobs/hello`)).json()) as { status: { phase: string; replicaStatus: Record<string, Record<string, number>> } };
    if (j.status.phase === 'FAILED') throw new Error(`job failed: ${JSON.stringify(j.status)}`);
    return j.status.phase === 'COMPLETED' && j;
  });
  assert.deepEqual(Object.values(job.status.replicaStatus), [{ COMPLETED: 2 }]);

  const logs = await (await fetch(`${url}/default/jobs/hello/logs`)).text();
  assert.match(logs, /Sky! from 0/);
  assert.match(logs, /Sky! from 1/);

  const events = (await (await fetch(`${url}/default/events`)).json()) as { items: { spec: { reason: string } }[] };
  const reasons = new Set(events.items.map((e) => e.spec.reason));
  for (const r of ['Scheduled', 'Submitted', 'Completed', 'ClusterReady']) assert.ok(reasons.has(r), `event ${r} in ${[...reasons].join(',')}`);

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
  assert.equal(code, 0);
});
