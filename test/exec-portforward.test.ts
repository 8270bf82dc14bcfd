/**
 * `skyctl exec` and `skyctl port-forward` end to end: a real `skyshift up`
 * with its local cluster, a job of 3 real replicas (rank 0 also runs a TCP
 * echo server), skyctl and the Node client over the API server's WebSocket
 * routes. Asserts bytes, exit codes, the replica's identity, authorization
 * and the Status of every refusal.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as pty from '@lydell/node-pty';
import WebSocket from 'ws';
import { ApiError, createInvite, login, openExec, openPortForward, register, SkyShiftClient, type StreamConnection } from '../src/client/index.js';
import { freePort, waitFor } from './infra/ports.js';
import { REPO_ROOT, SKYCTL_BIN } from './infra/server.js';
import { spawnSkyctl } from './infra/skyctl.js';
import { commandRunning, listening, raw, roundTrip } from './support/streams.js';
import { skyctl, startSkyShift, waitForJob, type Obj, type SkyShiftInstance } from './infra/skyshift.js';

let sky: SkyShiftInstance;
let echoPort: number;
const tokens: Record<string, string> = {};

const conn = (token: string | undefined = sky.token): StreamConnection => ({ server: sky.url, ...(token ? { token } : {}) });
const running = (n: number) => (j: Obj) =>
  Object.values((j.status?.taskStatus ?? {}) as Record<string, Record<string, string>>)
    .flatMap(Object.values)
    .filter((s) => s === 'RUNNING').length === n;

async function exec(command: string[], options: { task?: string; tty?: boolean; input?: string; token?: string } = {}) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const session = await openExec(
    conn(options.token),
    {
      namespace: 'default',
      job: 'hello',
      command,
      ...(options.task ? { task: options.task } : {}),
      tty: options.tty === true,
      stdin: options.input !== undefined,
    },
    { stdout: (c) => void out.push(c), stderr: (c) => void err.push(c) },
  );
  if (options.input !== undefined) {
    await session.write(Buffer.from(options.input));
    session.closeStdin();
  }
  const code = await session.exitCode;
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), task: session.task, tasks: session.tasks };
}

function refusedWith(reason: string, code: number, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApiError, `an ApiError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/** A user holding `roles`, logged in. */
async function user(name: string, roles: string[]): Promise<string> {
  const invite = await createInvite(sky.client, roles);
  const anonymous = new SkyShiftClient({ server: sky.url });
  await register(anonymous, { username: name, password: `pw-of-${name}-123`, invite: invite.token });
  return (await login(anonymous, name, `pw-of-${name}-123`)).token;
}

const ON_HOST = { filters: [{ name: 'host', matchLabels: { 'skyshift.io/local': 'true' } }] };

before(async () => {
  sky = await startSkyShift({ args: ['--heartbeat-seconds', '1', '--local-cpus', '4', '--local-memory', '4Gi'] });
  echoPort = await freePort();
  const echo = `node -e "require('net').createServer(s=>s.on('error',()=>{}).pipe(s)).listen(${echoPort},'127.0.0.1')"`;
  await sky.client.create('jobs', {
    kind: 'Job',
    metadata: { name: 'hello' },
    spec: {
      run: `[ "$SKYSHIFT_REPLICA" = 0 ] && ${echo} & exec sleep 600`,
      replicas: 3,
      envs: { GREETING: 'hi' },
      resources: { cpus: 1, memory: 64 },
      // On this host's cluster only: if the simulator below is READY first, a replica placed there runs no echo server.
      placement: ON_HOST,
    },
  });
  await sky.client.create('jobs', { kind: 'Job', metadata: { name: 'done' }, spec: { run: 'true', resources: { cpus: 1, memory: 64 }, placement: ON_HOST } });
  // A cluster whose manager has no exec or port-forward: the simulator.
  await sky.client.create('clusters', {
    kind: 'Cluster',
    metadata: { name: 'sim-a', labels: { kind: 'sim' } },
    spec: { manager: 'sim', config: { nodes: 1, nodeResources: { cpus: 4, memory: 4096 } } },
  });
  await sky.client.create('jobs', {
    kind: 'Job',
    metadata: { name: 'simulated' },
    spec: { run: 'sleep 600', resources: { cpus: 1, memory: 64 }, placement: { filters: [{ name: 'sim', matchLabels: { kind: 'sim' } }] } },
  });
  await waitForJob(sky.client, 'default', 'hello', running(3), 60_000, 'all 3 tasks RUNNING');
  await waitForJob(sky.client, 'default', 'simulated', running(1), 60_000, 'its task RUNNING on the simulator');
  await waitForJob(sky.client, 'default', 'done', (j) => j.status?.phase === 'COMPLETED', 60_000, 'COMPLETED');
  await waitFor('the echo server', () => listening(echoPort), 20_000);
  await sky.client.create('roles', {
    kind: 'Role',
    metadata: { name: 'job-editor' },
    spec: { namespaces: ['default'], rules: [{ resources: ['jobs'], actions: ['get', 'update'] }] },
  });
  tokens.reader = await user('reader', ['reader-role']);
  tokens.editor = await user('editor', ['job-editor']);
});
after(() => sky?.cleanup());

describe('skyctl exec', () => {
  test("runs in the first task by default and says so; --task picks one; exits with the command's code", async () => {
    const r = await skyctl(sky.url, sky.dir, ['exec', 'hello', '--', 'hostname']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${hostname()}\n`);
    assert.match(r.stderr, /Defaulted task "hello-0" \(the first of 3/);
    const two = await skyctl(sky.url, sky.dir, [
      'exec',
      'hello',
      '--task',
      'hello-2',
      '--',
      'sh',
      '-c',
      'echo "rank $SKYSHIFT_REPLICA $GREETING"; echo oops >&2; exit 7',
    ]);
    assert.equal(two.code, 7);
    assert.equal(two.stdout, 'rank 2 hi\n');
    assert.equal(two.stderr, 'oops\n', 'stderr is its own stream, and no "Defaulted" line with --task');
  });

  test('-i passes stdin to the command until EOF', async () => {
    const child = spawnSkyctl(['--server', sky.url, 'exec', 'hello', '-i', '--task', 'hello-1', '--', 'wc', '-c'], {
      home: sky.dir,
      input: 'x'.repeat(100_000),
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '100000');
    const viaClient = await exec(['sh', '-c', 'cat; echo; echo done >&2'], { input: 'echo me' });
    assert.deepEqual([viaClient.code, viaClient.stdout, viaClient.stderr], [0, 'echo me\n', 'done\n']);
  });

  test('-t without a terminal falls back to plain streams, as kubectl does; a tty session takes resizes', async () => {
    const r = await skyctl(sky.url, sky.dir, ['exec', 'hello', '-t', '--task', 'hello-0', '--', 'sh', '-c', 'tty; exit 0']);
    assert.match(r.stderr, /Unable to use a TTY/);
    assert.equal(r.stdout, 'not a tty\n');
    const out: Buffer[] = [];
    const session = await openExec(
      conn(),
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

  test('-it on a real terminal: raw mode, the terminal size and its changes reach the command, the exit code comes back', async () => {
    const term = pty.spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        SKYCTL_BIN,
        '--server',
        sky.url,
        'exec',
        'hello',
        '-it',
        '--task',
        'hello-0',
        '--',
        'sh',
        '-c',
        'stty size; read x; stty size; echo "got=$x"; exit 3',
      ],
      {
        cols: 77,
        rows: 21,
        cwd: REPO_ROOT,
        env: { ...process.env, HOME: sky.dir, SKYSHIFT_SERVER: '', NO_COLOR: '1' } as Record<string, string>,
      },
    );
    let output = '';
    term.onData((d) => (output += d));
    const exit = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      await waitFor('the first stty size', () => output.includes('21 77'), 20_000).catch((err: Error) =>
        assert.fail(`${err.message}: ${JSON.stringify(output)}`),
      );
      term.resize(90, 30);
      await new Promise((r) => setTimeout(r, 500));
      term.write('abc\r');
      assert.equal(await exit, 3, output);
    } finally {
      term.kill('SIGKILL');
    }
    assert.match(output, /30 90/, 'the resize reached the remote terminal');
    assert.match(output, /got=abc/);
  });

  test("the command runs as the replica: its identity, HOME and environment, none of SkyShift's secrets", async () => {
    const password = readFileSync(join(sky.dir, '.skyshift', 'admin-password'), 'utf8').trim();
    const r = await exec(['sh', '-c', `id -u; echo "HOME=$HOME"; env; cat ${join(sky.dir, '.skyshift', 'admin-password')}; echo "cat=$?"`]);
    const [uid] = r.stdout.split('\n');
    assert.equal(Number(uid), process.getuid?.() === 0 ? 65534 : process.getuid?.(), 'as root, replicas (and execs) run as nobody');
    assert.match(r.stdout, /^HOME=.*\/jobs\/default_hello_[^/]+\/0\/work$/m, 'HOME is the replica work dir');
    assert.match(r.stdout, /^SKYSHIFT_JOB=default\/hello$/m);
    assert.match(r.stdout, /^GREETING=hi$/m);
    assert.doesNotMatch(r.stdout, /SKYSHIFT_WORK_ROOT|SKYSHIFT_SERVER/, "none of the server's environment");
    assert.ok(!r.stdout.includes(sky.dir + '\n') && !r.stdout.includes(`HOME=${sky.dir}\n`), "not SkyShift's HOME");
    assert.ok(!r.stdout.includes(password), 'the admin password is not readable');
    assert.ok(!r.stdout.includes(sky.token!), 'no token');
    assert.match(r.stdout, /cat=1/);
  });

  test('refusals are Statuses: unknown task or job 404, finished task 409, bad parameters 400', async () => {
    const r = await skyctl(sky.url, sky.dir, ['exec', 'hello', '--task', 'hello-9', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(NotFound\): task 'hello-9' of job 'default\/hello' not found; its tasks: hello-0, hello-1, hello-2/);
    await assert.rejects(
      openExec(conn(), { namespace: 'default', job: 'nope', command: ['true'] }, { stdout() {}, stderr() {} }),
      refusedWith('NotFound', 404),
    );
    await assert.rejects(
      openExec(conn(), { namespace: 'default', job: 'done', command: ['true'] }, { stdout() {}, stderr() {} }),
      refusedWith('Conflict', 409, /COMPLETED/),
    );
    await assert.rejects(
      openExec(conn(), { namespace: 'default', job: 'hello', command: ['a\0b'] }, { stdout() {}, stderr() {} }),
      refusedWith('BadRequest', 400, /NUL/),
    );
    const headers = { authorization: `Bearer ${sky.token}` };
    for (const [path, message] of [
      ['/default/jobs/hello/exec', /needs a command/],
      ['/default/jobs/hello/exec?command=true', /WebSocket/],
      ['/default/jobs/hello/exec?command=true&tty=maybe', /tty must be true or false/],
      ['/default/jobs/hello/exec?command=true&task=Bad_Name', /not a task name/],
      [`/default/jobs/hello/exec?${'command=x&'.repeat(1025)}`, /at most 1024/],
      ['/default/jobs/hello/portforward', /needs a 'port'/],
      ['/default/jobs/hello/portforward?port=0', /1\.\.65535/],
      ['/default/jobs/hello/portforward?port=70000', /1\.\.65535/],
      ['/default/jobs/hello/portforward?port=80&port=81', /only once/],
    ] as const) {
      const res = await fetch(sky.url + path, { headers });
      assert.equal(res.status, 400, path);
      assert.match(((await res.json()) as { message: string }).message, message, path);
    }
    assert.equal((await fetch(`${sky.url}/default/jobs/hello/exec?command=true`, { method: 'POST', headers })).status, 405);
  });
});

describe('hostile upgrades', () => {
  test('a non-GET upgrade is refused at once; a handshake ws refuses after the command started leaves no process behind', async () => {
    const port = Number(new URL(sky.url).port);
    const auth = `Authorization: Bearer ${sky.token}\r\n`;
    const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const post = await raw(port, `POST /default/jobs HTTP/1.1\r\nHost: x\r\n${auth}${ws}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    assert.match(post, /^HTTP\/1.1 405 /);
    assert.match(post, /"reason":"MethodNotAllowed"/);
    const refused = await raw(
      port,
      `GET /default/jobs/hello/exec?command=sleep&command=987654 HTTP/1.1\r\nHost: x\r\n${auth}${ws}Sec-WebSocket-Protocol: not a token list\r\n\r\n`,
    );
    assert.match(refused, /^HTTP\/1.1 400 /);
    await waitFor('the abandoned command to be killed', async () => !(await commandRunning(['sleep', '987654'])), 5_000);
  });
});

describe('clients that vanish', () => {
  test('a terminated exec (with and without a terminal) kills the command; a terminated port-forward is dropped; the server stays up', async () => {
    const base = sky.url.replace('http', 'ws');
    const headers = { authorization: `Bearer ${sky.token}` };
    const open = (url: string, protocol: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, [protocol], { headers });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    for (const [tty, seconds] of [
      ['true', '987655'],
      ['false', '987656'],
    ] as const) {
      const ws = await open(`${base}/default/jobs/hello/exec?command=sleep&command=${seconds}&tty=${tty}&stdin=true`, 'v5.channel.k8s.io');
      await waitFor(`sleep ${seconds} to run`, () => commandRunning(['sleep', seconds]), 5_000);
      ws.terminate();
      await waitFor(`sleep ${seconds} to be killed`, async () => !(await commandRunning(['sleep', seconds])), 5_000);
    }
    const pf = await open(`${base}/default/jobs/hello/portforward?port=${echoPort}`, 'portforward.skyshift.io');
    pf.send(Buffer.from('half a conversation'));
    pf.terminate();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(`${sky.url}/readyz`)).status, 200, `the server is up; log:\n${sky.logTail(20)}`);
    const after = await exec(['echo', 'still here']);
    assert.deepEqual([after.code, after.stdout], [0, 'still here\n']);
  });
});

describe('exec and port-forward authorization', () => {
  test('a role that may only read jobs gets 403; update on jobs is enough; no token is 401', async () => {
    await assert.rejects(exec(['true'], { token: tokens.reader }), refusedWith('Forbidden', 403));
    await assert.rejects(openPortForward(conn(tokens.reader), { namespace: 'default', job: 'hello', port: echoPort }), refusedWith('Forbidden', 403));
    await assert.rejects(exec(['true'], { token: '' }), refusedWith('Unauthorized', 401));
    const ok = await exec(['echo', 'editor'], { token: tokens.editor });
    assert.deepEqual([ok.code, ok.stdout], [0, 'editor\n']);
  });

  test('a browser can send its token as a base64url.bearer.authorization.k8s.io subprotocol', async () => {
    const frames = await new Promise<Buffer[]>((resolve, reject) => {
      const bearer = `base64url.bearer.authorization.k8s.io.${Buffer.from(tokens.editor!).toString('base64url')}`;
      const ws = new WebSocket(`${sky.url.replace('http', 'ws')}/default/jobs/hello/exec?command=echo&command=hi`, [bearer, 'v5.channel.k8s.io']);
      const got: Buffer[] = [];
      ws.on('open', () => assert.equal(ws.protocol, 'v5.channel.k8s.io', 'the channel protocol is chosen, never the token'));
      ws.on('message', (d: Buffer) => got.push(d));
      ws.on('close', () => resolve(got));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', reject);
    });
    assert.deepEqual(frames[0], Buffer.concat([Buffer.of(1), Buffer.from('hi\n')]));
    assert.deepEqual(JSON.parse(frames.at(-1)!.subarray(1).toString()), { metadata: {}, status: 'Success' });
    assert.equal(frames.at(-1)![0], 3, 'the status channel');
    const reader = `base64url.bearer.authorization.k8s.io.${Buffer.from(tokens.reader!).toString('base64url')}`;
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${sky.url.replace('http', 'ws')}/default/jobs/hello/exec?command=true`, [reader, 'v5.channel.k8s.io']);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => (ws.close(), resolve(101)));
      ws.on('error', () => resolve(undefined));
    });
    assert.equal(status, 403);
  });
});

describe('skyctl port-forward', () => {
  test('forwards two concurrent connections of 1 MiB each way, and reports a port nothing listens on', async () => {
    const local = await freePort();
    const child = spawnSkyctl(['--server', sky.url, 'port-forward', 'hello', `${local}:${echoPort}`, '--task', 'hello-0'], { home: sky.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor('Forwarding from', () => stdout.includes(`Forwarding from 127.0.0.1:${local} -> ${echoPort}`), 20_000);
      const payloads = [randomBytes(1024 * 1024), randomBytes(1024 * 1024)];
      const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p)));
      for (const [i, p] of payloads.entries()) assert.ok(echoed[i]!.equals(p), `connection ${i}: ${echoed[i]!.length} bytes came back, equal to what was sent`);
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
    assert.match(stdout, /Handling connection for \d+/);
    // `:REMOTE` picks a free local port and prints it; without --task the first task, said on stderr.
    const any = spawnSkyctl(['--server', sky.url, 'port-forward', 'hello', `:${echoPort}`], { home: sky.dir });
    let anyOut = '';
    let anyErr = '';
    any.stdout.on('data', (d: Buffer) => (anyOut += d.toString()));
    any.stderr.on('data', (d: Buffer) => (anyErr += d.toString()));
    try {
      const port = Number((await waitFor('a free port', () => /Forwarding from 127\.0\.0\.1:(\d+) -> /.exec(anyOut), 20_000))[1]);
      assert.notEqual(port, 0);
      const bytes = randomBytes(4096);
      assert.ok((await roundTrip(port, bytes)).equals(bytes));
      assert.match(anyErr, /Defaulted task "hello-0" \(the first of 3/);
    } finally {
      any.kill('SIGKILL');
    }
    const unknown = await skyctl(sky.url, sky.dir, ['port-forward', 'hello', `${local}:${echoPort}`, '--task', 'hello-5']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /task 'hello-5' of job 'default\/hello' not found; its tasks: hello-0, hello-1, hello-2/);
    const closed = await freePort();
    await assert.rejects(
      openPortForward(conn(), { namespace: 'default', job: 'hello', task: 'hello-0', port: closed }),
      refusedWith('ServiceUnavailable', 503, /nothing listens/),
    );
  });
});
