/**
 * The agent tunnel end to end: a real `skyshift up` (no local cluster), an
 * agent Cluster (`spec.agent: true`), its join token, and an agent-side
 * process (test/support/tunnel-agent.ts: connectTunnel with a LocalManager and
 * a minimal heartbeat) that runs the job's replicas. skyctl's logs, exec and
 * port-forward reach those replicas only through the tunnel: the server has no
 * manager of its own for the cluster. Asserts bytes, exit codes, refusals.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ApiError, openExec, openPortForward } from '../src/client/index.js';
import { freePort, waitFor } from './infra/ports.js';
import { startDaemon, type Daemon } from './infra/process.js';
import { REPO_ROOT } from './infra/server.js';
import { spawnSkyctl } from './infra/skyctl.js';
import { skyctl, startSkyShift, waitForJob, type Obj, type SkyShiftInstance } from './infra/skyshift.js';
import { listening, roundTrip } from './support/streams.js';
import { TUNNEL_LOST_EXIT_CODE } from '../src/managers/tunnel/index.js';
import type { ClusterManager } from '../src/managers/index.js';
import { connectTunnel } from '../src/network/index.js';
import { createApiServer } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import { wireManagers } from '../src/bin/wire-managers.js';

const CLUSTER = 'lab';
let sky: SkyShiftInstance;
let agent: Daemon | undefined;
let tokenFile: string;
let agentToken: string;
let echoPort: number;

function startAgent(): Daemon {
  return startDaemon(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/support/tunnel-agent.ts'), sky.url, tokenFile, CLUSTER], {
    logFile: join(sky.dir, 'agent.log'),
    env: { HOME: join(sky.dir, 'agent-home'), SKYSHIFT_WORK_ROOT: join(sky.dir, 'work') },
    cwd: REPO_ROOT,
  });
}

/** The status code and Status message of a WebSocket upgrade to /agent/tunnel refused before the handshake. */
function tunnelRefusal(token: string | undefined, query = ''): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${sky.url.replace('http', 'ws')}/agent/tunnel${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    ws.on('open', () => (ws.terminate(), reject(new Error('the tunnel was accepted'))));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, message: (JSON.parse(body) as { message: string }).message }));
    });
  });
}

const placed = (j: Obj) => ((j.status?.placements ?? {}) as Record<string, number[]>)[CLUSTER]?.length ?? 0;

before(async () => {
  sky = await startSkyShift({ args: ['--heartbeat-seconds', '1', '--no-local-cluster'] });
  await sky.client.create('clusters', { kind: 'Cluster', metadata: { name: CLUSTER }, spec: { manager: 'local', agent: true } });
  agentToken = (await sky.client.call<{ token: string }>('POST', `/clusters/${CLUSTER}/agent-tokens`, {})).token;
  tokenFile = join(sky.dir, 'lab.token');
  writeFileSync(tokenFile, agentToken, { mode: 0o600 });
  agent = startAgent();
  echoPort = await freePort();
  const echo = `node -e "require('net').createServer(s=>s.on('error',()=>{}).pipe(s)).listen(${echoPort},'127.0.0.1')"`;
  await sky.client.create('jobs', {
    kind: 'Job',
    metadata: { name: 'hello' },
    spec: {
      run: `[ "$SKYSHIFT_REPLICA" = 0 ] && ${echo} & i=0; while true; do echo "line $i of $SKYSHIFT_REPLICA"; i=$((i+1)); sleep 0.2; done`,
      replicas: 2,
      resources: { cpus: 1, memory: 64 },
    },
  });
  await waitForJob(sky.client, 'default', 'hello', (j) => placed(j) === 2, 60_000, 'both replicas placed on the agent cluster');
  await waitFor('the echo server in replica 0', () => listening(echoPort), 30_000);
});

after(async () => {
  await agent?.stop();
  await sky?.cleanup();
});

describe('logs, exec and port-forward through the agent tunnel', () => {
  test('skyctl logs shows both replicas; logs -f --task follows one as it writes', async () => {
    const all = await skyctl(sky.url, sky.dir, ['logs', 'hello']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^\[hello-0\] line 0 of 0$/m);
    assert.match(all.stdout, /^\[hello-1\] line 0 of 1$/m);
    const child = spawnSkyctl(['--server', sky.url, 'logs', '-f', 'hello', '--task', 'hello-1'], { home: sky.dir });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('three lines', () => [...out.matchAll(/^line (\d+) of 1$/gm)].length >= 3, 20_000);
      const first = [...out.matchAll(/^line (\d+) of 1$/gm)].length;
      await new Promise((r) => setTimeout(r, 1_000));
      const later = [...out.matchAll(/^line (\d+) of 1$/gm)].length;
      assert.ok(later >= first + 3, `follow keeps streaming: ${first} then ${later} lines`);
      assert.doesNotMatch(out, /of 0/, 'only the task asked for');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test("skyctl exec: output, stderr and the command's exit code; -i passes stdin until EOF", async () => {
    const r = await skyctl(sky.url, sky.dir, ['exec', 'hello', '--task', 'hello-1', '--', 'sh', '-c', 'echo "rank $SKYSHIFT_REPLICA"; echo oops >&2; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'rank 1\n');
    assert.equal(r.stderr, 'oops\n');
    const child = spawnSkyctl(['--server', sky.url, 'exec', 'hello', '-i', '--task', 'hello-0', '--', 'wc', '-c'], {
      home: sky.dir,
      input: 'x'.repeat(300_000),
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '300000');
  });

  test('exec with a terminal: resize reaches the command, the exit code comes back', async () => {
    const out: Buffer[] = [];
    const session = await openExec(
      { server: sky.url, ...(sky.token ? { token: sky.token } : {}) },
      { namespace: 'default', job: 'hello', task: 'hello-0', command: ['sh', '-c', 'read x; stty size; tty; exit 5'], tty: true, stdin: true },
      { stdout: (c) => void out.push(c), stderr: () => assert.fail('a terminal has no separate stderr') },
    );
    session.resize(101, 33);
    await session.write(Buffer.from('go\r'));
    assert.equal(await session.exitCode, 5);
    const text = Buffer.concat(out).toString();
    assert.match(text, /33 101/);
    assert.match(text, /\/dev\/pts\/\d+/);
  });

  test('skyctl port-forward: 10 concurrent connections echo 1 MiB each', async () => {
    const local = await freePort();
    const child = spawnSkyctl(['--server', sky.url, 'port-forward', 'hello', `${local}:${echoPort}`, '--task', 'hello-0'], { home: sky.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('Forwarding from', () => stdout.includes(`127.0.0.1:${local}`), 20_000);
      const payloads = Array.from({ length: 10 }, () => randomBytes(1024 * 1024));
      const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p)));
      for (const [i, p] of payloads.entries())
        assert.ok(echoed[i]!.equals(p), `connection ${i}: ${echoed[i]!.length} bytes came back, equal to what was sent (${stderr})`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test("the agent's refusal travels back as the Status its manager gave (503 naming the port)", async () => {
    const closed = await freePort();
    await assert.rejects(
      openPortForward({ server: sky.url, ...(sky.token ? { token: sky.token } : {}) }, { namespace: 'default', job: 'hello', task: 'hello-0', port: closed }),
      (err: unknown) =>
        err instanceof ApiError && err.code === 503 && /nothing listens there/.test(err.message) && new RegExp(`port ${closed}`).test(err.message),
    );
  });
});

describe('the tunnel route', () => {
  test('only the cluster’s own agent token opens it', async () => {
    assert.equal((await tunnelRefusal(undefined)).code, 401);
    const admin = await tunnelRefusal(sky.token);
    assert.equal(admin.code, 403);
    const other = await tunnelRefusal(agentToken, '?cluster=other');
    assert.equal(other.code, 403);
    assert.match(other.message, /'lab'/);
  });

  test('agent gone: open streams end at once, new ones get 503 naming the cluster; back: streams work again; a newer tunnel replaces the older', async () => {
    const follow = spawnSkyctl(['--server', sky.url, 'logs', '-f', 'hello', '--task', 'hello-0'], { home: sky.dir });
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => (followed += d.toString()));
    const followEnded = new Promise<number | null>((resolve) => follow.on('close', resolve));
    const session = await openExec(
      { server: sky.url, ...(sky.token ? { token: sky.token } : {}) },
      { namespace: 'default', job: 'hello', task: 'hello-1', command: ['sleep', '600'], tty: false, stdin: false },
      { stdout: () => undefined, stderr: () => undefined },
    );
    try {
      await waitFor('the follow streaming', () => followed.includes('of 0'), 20_000);
      // A crash, not a goodbye: the server learns it from the closed connection.
      await agent!.kill();
      const ended = await Promise.race([followEnded, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
      assert.equal(ended, 0, `logs -f ends with the tunnel: ${followed.slice(-300)}`);
      assert.match(followed, /agent tunnel closed/);
      assert.equal(await Promise.race([session.exitCode, new Promise((r) => setTimeout(() => r('no exit'), 10_000))]), TUNNEL_LOST_EXIT_CODE);
    } finally {
      follow.kill('SIGKILL');
    }
    const logs = await skyctl(sky.url, sky.dir, ['logs', 'hello']);
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /cluster 'lab': agent not connected/);
    const exec = await skyctl(sky.url, sky.dir, ['exec', 'hello', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /cluster 'lab': agent not connected/);
    agent = startAgent();
    // A second agent process for the same cluster: the newest tunnel wins, streams keep working.
    const second = startAgent();
    try {
      await waitFor(
        'exec through the tunnel again',
        async () => (await skyctl(sky.url, sky.dir, ['exec', 'hello', '--task', 'hello-1', '--', 'echo', 'back'])).stdout === 'back\n',
        30_000,
      );
      // Two agents of one cluster: each new connection replaces the other's, which is told why.
      await waitFor('a replaced tunnel', () => readFileSync(join(sky.dir, 'agent.log'), 'utf8').includes('replaced by a newer tunnel'), 20_000);
    } finally {
      await second.stop();
    }
  });
});

describe('the tunnel route without authentication (in process)', () => {
  test('?cluster= names the cluster, which must exist with spec.agent; logs reach a connected agent, 503 once it is gone', async (t) => {
    const store = await openStore('memory:');
    const wired = wireManagers(store);
    const server = createApiServer({ store, ...wired });
    const url = await server.start({ host: '127.0.0.1', port: 0 });
    const stop = new AbortController();
    t.after(async () => {
      stop.abort();
      await server.close();
      await store.close();
    });
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('/clusters', { kind: 'Cluster', metadata: { name: 'far' }, spec: { manager: 'local', agent: true } })).status, 201);
    assert.equal((await post('/clusters', { kind: 'Cluster', metadata: { name: 'near' }, spec: { manager: 'local' } })).status, 201);
    const refused = async (query: string) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/agent/tunnel${query}`);
      ws.on('error', () => undefined);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      ws.terminate();
      return res.statusCode;
    };
    assert.deepEqual(
      [await refused(''), await refused('?cluster=near'), await refused('?cluster=nowhere'), await refused('?cluster=Bad_Name')],
      [400, 409, 404, 400],
    );
    const agentSide = {
      type: 'fake',
      async *logs(job: { name: string }, options: { task?: string }) {
        yield `hello from ${job.name}/${options.task ?? '?'} on the agent`;
      },
    } as unknown as ClusterManager;
    const tunnel = connectTunnel({ server: url, cluster: 'far', manager: agentSide, signal: stop.signal, pingMs: 0 });
    assert.ok(await tunnel.whenConnected());
    assert.deepEqual(wired.agentTunnels.clusters(), ['far']);
    assert.equal((await post('/default/jobs', { kind: 'Job', metadata: { name: 'j' }, spec: { run: 'true' } })).status, 201);
    const job = (await (await fetch(`${url}/default/jobs/j`)).json()) as Obj;
    const put = await fetch(`${url}/default/jobs/j/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...job, status: { ...(job.status ?? {}), placements: { far: [0] } } }),
    });
    assert.equal(put.status, 200, await put.text());
    const logs = await fetch(`${url}/default/jobs/j/logs`);
    assert.equal(await logs.text(), 'hello from j/j-0 on the agent\n');
    stop.abort();
    await tunnel.done;
    await waitFor('the tunnel gone from the registry', () => wired.agentTunnels.clusters().length === 0, 5_000);
    const away = await fetch(`${url}/default/jobs/j/logs`);
    assert.equal(away.status, 503);
    assert.match(((await away.json()) as { message: string }).message, /cluster 'far': agent not connected/);
  });
});
