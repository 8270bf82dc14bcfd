/**
 * skyctl end to end, the commands beyond get/create/apply: status, version,
 * create service|link, get events, logs. A real `skyshift server` process
 * (SQLite) and skyctl as a real process per command, HOME in a temp dir.
 * Without controllers nothing writes status, so the tests write it through the
 * API's status subresource the way a Skylet would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from './infra/server.js';
import { ok, runSkyctl, spawnSkyctl, type SkyctlRun } from './infra/skyctl.js';
import { startSkyShift, type SkyShiftInstance } from './infra/skyshift.js';

let server: TestServer;
let home: string;

/** `server: null` uses the context from HOME's ~/.skyconf/config.yaml (`home` defaults to a private one). */
function skyctl(args: string[], options: { server?: string | null; home?: string } = {}): Promise<SkyctlRun> {
  return runSkyctl(args, { home: options.home ?? home, server: options.server === null ? undefined : (options.server ?? server.url) });
}

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** What a Skylet's heartbeat writes: READY with per-node capacity and allocatable (MiB). */
async function markReady(name: string, nodes: Record<string, { cpus: number; memory: number; freeCpus: number; freeMemory: number }>): Promise<void> {
  const obj = await api('GET', `/clusters/${name}`);
  obj.status = {
    phase: 'READY',
    capacity: Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, { cpus: r.cpus, memory: r.memory }])),
    allocatable: Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, { cpus: r.freeCpus, memory: r.freeMemory }])),
  };
  await api('PUT', `/clusters/${name}/status`, obj);
}

before(async () => {
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'skyctl-extra-home-'));
});

after(async () => {
  await server?.stop();
});

describe('skyctl status, version, create service|link, get events, logs against a real server', () => {
  test('version and --version', async () => {
    const v = (await api('GET', '/version')) as { version: string };
    const r = ok(await skyctl(['version']));
    assert.equal(r.stdout, `Client Version: 0.1.0\nServer Version: ${v.version}\n`);
    assert.equal(ok(await skyctl(['--version'], { server: null })).stdout, '0.1.0\n');
    assert.equal(ok(await skyctl(['version', '--client'], { server: 'http://127.0.0.1:9' })).stdout, 'Client Version: 0.1.0\n', 'no server needed');
    const json = JSON.parse(ok(await skyctl(['version', '-o', 'json'])).stdout) as {
      clientVersion: { version: string };
      serverVersion: { version: string; store: string };
    };
    assert.deepEqual([json.clientVersion.version, json.serverVersion.store], ['0.1.0', 'sqlite']);
    const down = await skyctl(['version'], { server: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach SkyShift API server/);
  });

  test('status: clusters, TOTAL of the READY ones, unfinished jobs newest first; -o json', async () => {
    ok(await skyctl(['create', 'cluster', 'east', '--manager', 'local', '-l', 'site', 'a']));
    ok(await skyctl(['create', 'cluster', 'west', '--manager', 'local']));
    ok(await skyctl(['create', 'cluster', 'zdown', '--manager', 'local']));
    await markReady('east', { n0: { cpus: 4, memory: 8192, freeCpus: 3, freeMemory: 4096 } });
    await markReady('west', { n0: { cpus: 2, memory: 2048, freeCpus: 2, freeMemory: 2048 } });
    ok(await skyctl(['create', 'namespace', 'ml']));
    ok(await skyctl(['create', 'job', 'first', '--run', 'true']));
    await new Promise((r) => setTimeout(r, 20)); // distinct creation times for the newest-first order
    ok(await skyctl(['create', 'job', 'second', '--run', 'true', '-n', 'ml', '--cpus', '2']));

    const lines = ok(await skyctl(['status'])).stdout.split('\n');
    assert.equal(lines[0], 'Clusters');
    assert.match(lines[1] ?? '', /^NAME {3,}MANAGER {3,}LABELS {3,}RESOURCES {3,}STATUS {3,}AGE$/);
    assert.match(lines[2] ?? '', /^east {3,}local {3,}site=a {3,}cpus: 3\/4, memory: 4Gi\/8Gi {3,}READY {3,}\d+s$/);
    assert.match(lines[3] ?? '', /^west {3,}local {3,}<none> {3,}cpus: 2\/2, memory: 2Gi\/2Gi {3,}READY {3,}\d+s$/);
    assert.match(lines[4] ?? '', /^zdown {3,}local {3,}<none> {3,}<none> {3,}INIT {3,}\d+s$/);
    assert.match(lines[5] ?? '', /^=+$/);
    assert.match(lines[6] ?? '', /^TOTAL {3,}skyshift {3,}<none> {3,}cpus: 5\/6, memory: 6Gi\/10Gi {3,}READY {3,}\d+s$/, 'only READY clusters count');
    assert.equal(lines[6]?.indexOf('READY'), lines[2]?.indexOf('READY'), 'TOTAL is aligned with the clusters');
    assert.equal(lines[8], 'Jobs');
    assert.match(lines[9] ?? '', /^NAME {3,}CLUSTER {3,}REPLICAS {3,}RESOURCES {3,}NAMESPACE {3,}STATUS {3,}AGE$/);
    assert.match(lines[10] ?? '', /^second {3,}0\/1 {3,}cpus: 2, memory: 512Mi {3,}ml {3,}INIT {3,}\d+s$/, 'newest first, across namespaces');
    assert.match(lines[11] ?? '', /^first {3,}0\/1 {3,}cpus: 1, memory: 512Mi {3,}default {3,}INIT {3,}\d+s$/);

    const s = JSON.parse(ok(await skyctl(['status', '-o', 'json'])).stdout) as {
      total: { clusters: number; ready: number; allocatable: Record<string, number>; capacity: Record<string, number> };
      jobs: { namespace: string; name: string }[];
    };
    assert.deepEqual(s.total, { clusters: 3, ready: 2, phase: 'READY', allocatable: { cpus: 5, memory: 6144 }, capacity: { cpus: 6, memory: 10240 } });
    assert.deepEqual(
      s.jobs.map((j) => `${j.namespace}/${j.name}`),
      ['ml/second', 'default/first'],
    );
    assert.equal((await skyctl(['status', '-o', 'wide'])).code, 2);
  });

  test('create service with current and Python-era flags; bad input', async () => {
    assert.equal(
      ok(await skyctl(['create', 'service', 'web', '-s', 'app', 'web', '-p', '80', '8080', '-p', '443', '8443', '-c', 'east'])).stdout,
      'service/web created\n',
    );
    assert.equal(
      ok(await skyctl(['create', 'svc', 'legacy', '--service_type', 'NodePort', '--primary_cluster', 'west', '-p', '9000', '9001', '-n', 'ml'])).stdout,
      'service/legacy created\n',
    );
    const web = (await api('GET', '/default/services/web')) as { spec: Record<string, unknown> };
    assert.deepEqual(web.spec, {
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [
        { port: 80, targetPort: 8080, protocol: 'TCP' },
        { port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
      primaryCluster: 'east',
    });
    const legacy = (await api('GET', '/ml/services/legacy')) as { spec: { type: string; primaryCluster: string } };
    assert.deepEqual([legacy.spec.type, legacy.spec.primaryCluster], ['NodePort', 'west']);
    const table = ok(await skyctl(['get', 'services'])).stdout;
    assert.match(
      table,
      /^NAME {3,}TYPE {3,}CLUSTER-IP {3,}EXTERNAL-IP {3,}PORTS {3,}CLUSTER {3,}NAMESPACE {3,}AGE\nweb {3,}ClusterIP {3,}<none> {3,}<none> {3,}80:8080;443:8443 {3,}east {3,}default {3,}\d+s\n$/,
    );

    const badType = await skyctl(['create', 'service', 'x', '-t', 'Bogus']);
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /service type "Bogus" is not supported/);
    const badPort = await skyctl(['create', 'service', 'x', '-p', '80', '70000']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /port 70000 is out of the valid range/);
    const noCluster = await skyctl(['create', 'service', 'x', '-c', 'nowhere']);
    assert.equal(noCluster.code, 1);
    assert.equal(noCluster.stderr, "Error from server (NotFound): cluster 'nowhere' does not exist\n");
    const services = (await api('GET', '/default/services')) as { items: unknown[] };
    assert.equal(services.items.length, 1, 'nothing created by the failures');
  });

  test('create link: both spellings; same source and target rejected; clusters must exist', async () => {
    assert.equal(ok(await skyctl(['create', 'link', 'ew', '-s', 'east', '-t', 'west'])).stdout, 'link/ew created\n');
    assert.equal(ok(await skyctl(['create', 'link', 'we', '--source_cluster', 'west', '--target_cluster', 'east'])).stdout, 'link/we created\n');
    const link = (await api('GET', '/links/ew')) as { spec: Record<string, unknown> };
    assert.deepEqual(link.spec, { sourceCluster: 'east', targetCluster: 'west' });
    assert.match(
      ok(await skyctl(['get', 'links'])).stdout,
      /^NAME {3,}SOURCE {3,}TARGET {3,}STATUS {3,}AGE\new {3,}east {3,}west {3,}INIT {3,}\d+s\nwe {3,}west {3,}east {3,}INIT {3,}\d+s\n$/,
    );
    const same = await skyctl(['create', 'link', 'loop', '-s', 'east', '-t', 'east']);
    assert.equal(same.code, 2);
    assert.equal(same.stderr, 'error: source and target clusters cannot be the same\n');
    const missing = await skyctl(['create', 'link', 'x', '-s', 'east']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--target/);
    const unknown = await skyctl(['create', 'link', 'x', '-s', 'east', '-t', 'mars']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "Error from server (NotFound): cluster 'mars' does not exist\n");
  });

  test('get events: columns, order by last occurrence, --for, -A', async () => {
    const now = Date.now();
    const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
    const event = (ns: string, name: string, kind: string, obj: string, reason: string, message: string, last: string, type = 'Normal') =>
      api('POST', `/${ns}/events`, {
        kind: 'Event',
        metadata: { name, namespace: ns },
        spec: { involvedObject: { kind, name: obj, namespace: ns }, reason, message, type, lastTimestamp: last },
      });
    // Created out of order on purpose: the table must sort by lastTimestamp.
    await event('default', 'first.started', 'Job', 'first', 'Started', 'replica first-0 started', at(60));
    await event('default', 'first.scheduled', 'Job', 'first', 'Scheduled', 'placed on east', at(3 * 3600));
    await event('default', 'other.failed', 'Job', 'other', 'FailedScheduling', 'no cluster fits', at(600), 'Warning');
    await event('ml', 'second.scheduled', 'Job', 'second', 'Scheduled', 'placed on west', at(120));

    assert.equal(
      ok(await skyctl(['get', 'events'])).stdout,
      'LAST SEEN   TYPE      REASON             OBJECT      MESSAGE\n' +
        '3h          Normal    Scheduled          job/first   placed on east\n' +
        '10m         Warning   FailedScheduling   job/other   no cluster fits\n' +
        '1m          Normal    Started            job/first   replica first-0 started\n',
    );
    assert.equal(
      ok(await skyctl(['get', 'events', '--for', 'jobs/first'])).stdout,
      'LAST SEEN   TYPE     REASON      OBJECT      MESSAGE\n' +
        '3h          Normal   Scheduled   job/first   placed on east\n' +
        '1m          Normal   Started     job/first   replica first-0 started\n',
    );
    const all = ok(await skyctl(['get', 'ev', '-A'])).stdout.split('\n');
    assert.match(all[0] ?? '', /^NAMESPACE {3,}LAST SEEN {3,}TYPE/);
    assert.deepEqual(
      all.slice(1, -1).map((l) => l.split(/ {3,}/)[0] + ' ' + l.split(/ {3,}/)[3]),
      ['default Scheduled', 'default FailedScheduling', 'ml Scheduled', 'default Started'],
    );
    const none = ok(await skyctl(['get', 'events', '--for', 'job/nobody']));
    assert.equal(none.stderr, 'No resources found in default namespace.\n');
    assert.equal((await skyctl(['get', 'events', '--for', 'nobody'])).code, 2);
    assert.equal((await skyctl(['get', 'jobs', '--for', 'job/first'])).code, 2);
  });

  test('logs: an error before the stream starts is printed as Status, exit 1', async () => {
    const missing = await skyctl(['logs', 'nobody']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, "Error from server (NotFound): job 'default/nobody' not found\n");
    const badTail = await skyctl(['logs', 'first', '--tail=-1']);
    assert.equal(badTail.code, 2);
    assert.equal(badTail.stderr, 'error: --tail must be 0 or more, got -1\n');
  });

  // A provider error ("not placed yet") must arrive as a Status, not as text in a 200 body.
  test('logs of a job not placed yet: Error from server (BadRequest), exit 1', async () => {
    const r = await skyctl(['logs', 'first']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error from server \(BadRequest\): job 'default\/first' has not been placed/);
  });

  test('logs -f of a job not placed yet waits for it (said once on stderr) and Ctrl-C ends the wait with 0', async () => {
    const child = spawnSkyctl(['--server', server.url, 'logs', 'first', '-f'], { home });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!/Waiting for job 'default\/first' to be placed/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(err, /^Waiting for job 'default\/first' to be placed on a cluster \(\w+\)\.\.\.\n$/);
    await new Promise((r) => setTimeout(r, 1500)); // still waiting after a poll, not ended
    assert.equal(child.exitCode, null);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(err.match(/Waiting/g)?.length, 1, err);
  });

  test('new commands have Examples in --help', async () => {
    for (const cmd of [['logs'], ['status'], ['version'], ['create', 'service'], ['create', 'link']]) {
      const r = ok(await skyctl([...cmd, '--help'], { server: null }));
      assert.match(r.stdout, /\nExamples:\n {2}skyctl /, cmd.join(' '));
    }
  });
});

/**
 * `skyctl logs` against the real logs route: `skyshift up` with its local
 * cluster runs the jobs; skyctl uses the context (and token) `up` wrote.
 */
describe('skyctl logs against skyshift up', () => {
  let sky: SkyShiftInstance;
  const run = (args: string[]) => skyctl(args, { server: null, home: sky.dir });

  before(async () => {
    sky = await startSkyShift({ args: ['--heartbeat-seconds', '1', '--local-cpus', '2', '--local-memory', '2Gi'] });
  });
  after(async () => {
    await sky?.cleanup();
  });

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const v = await fn().catch(() => undefined);
      if (v) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; skyshift log:\n${sky.logTail(20)}`);
  }

  test('logs of a finished job: every replica, --tail, --task', async () => {
    ok(
      await run([
        'create',
        'job',
        'hello',
        '--run',
        'echo "Sky! from $SKYSHIFT_REPLICA"; echo "bye from $SKYSHIFT_REPLICA"',
        '--replicas',
        '2',
        '--cpus',
        '1',
        '--memory',
        '64',
      ]),
    );
    await until('hello COMPLETED', async () => {
      const j = await sky.client.get('jobs', 'hello', { namespace: 'default' });
      const phase = (j.status as { phase?: string }).phase;
      if (phase === 'FAILED') throw new Error(`job failed: ${JSON.stringify(j.status)}`);
      return phase === 'COMPLETED';
    });
    const all = ok(await run(['logs', 'hello'])).stdout;
    for (const line of ['Sky! from 0', 'Sky! from 1', 'bye from 0', 'bye from 1']) assert.ok(all.includes(line + '\n'), `${line} in:\n${all}`);
    const tail = ok(await run(['logs', 'hello', '--tail', '1'])).stdout;
    assert.ok(tail.includes('bye from 0') && tail.includes('bye from 1'), tail);
    assert.ok(!tail.includes('Sky!'), `--tail 1 keeps only the last line of each replica:\n${tail}`);
    const one = ok(await run(['logs', 'hello', '--task', 'hello-1'])).stdout;
    assert.ok(one.includes('Sky! from 1') && !one.includes('from 0'), one);
  });

  test('logs -f streams as the job writes and Ctrl-C exits 0', async () => {
    ok(
      await run([
        'create',
        'job',
        'ticker',
        '--run',
        'i=0; while [ $i -lt 300 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done',
        '--cpus',
        '1',
        '--memory',
        '64',
      ]),
    );
    await until('ticker RUNNING', async () => {
      const j = await sky.client.get('jobs', 'ticker', { namespace: 'default' });
      return (j.status as { phase?: string }).phase === 'ACTIVE';
    });
    const child = spawnSkyctl(['logs', 'ticker', '-f'], { home: sky.dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until('the first ticks', async () => /tick 1\n/.test(out), 20_000);
      const seen = out.length;
      // Lines written after skyctl started arrive while it keeps running.
      await until('more ticks', async () => out.length > seen && /tick \d+\n$/.test(out), 10_000);
      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
      assert.equal(err, '');
    } finally {
      child.kill('SIGKILL');
      await run(['delete', 'job', 'ticker']);
    }
  });
});
