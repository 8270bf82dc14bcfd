/**
 * exec and port-forward of the local manager on real replicas (processes in a
 * temporary workdir): bytes, exit codes, stdin, a terminal, the replica's own
 * identity and environment, refusals, and that an abandoned exec is killed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../../api/index.js';
import { MARKER_FILE, MARKER_TEXT, buildBusyboxImage, podmanUnavailable, type PodmanImage } from '../../../test/infra/podman-image.js';
import { testJob } from '../../../test/support/jobs.js';
import { killRecordedProcessGroups, ref, taskWaiters, tasksOf } from '../../../test/support/manager-tasks.js';
import type { ExecSession } from '../capabilities.js';
import { LocalManager } from './manager.js';

const { waitFor } = taskWaiters(15_000);
const SECRET = 'SKYSHIFT_TEST_SECRET_' + Math.random().toString(36).slice(2);

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(session: ExecSession, input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const writer = session.stdin.getWriter();
  if (input !== undefined) await writer.write(new TextEncoder().encode(input));
  await writer.close().catch(() => undefined);
  const [stdout, stderr, code] = await Promise.all([text(session.stdout), text(session.stderr), session.exitCode]);
  return { stdout, stderr, code };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function rejectsWith(reason: string) {
  return (err: unknown) => err instanceof ApiError && err.reason === reason;
}

describe('local manager: exec and port-forward', () => {
  let dir: string;
  let manager: LocalManager;
  let echoPort: number;
  const hello = testJob('hello', { run: '', replicas: 2 });
  const done = testJob('done', { run: 'true' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skyshift-exec-'));
    // As root the replicas run as an unprivileged user, who must be able to enter the workdir.
    await chmod(dir, 0o711);
    process.env[SECRET] = 'must-not-leak';
    manager = new LocalManager({ name: 'exec-test', workdir: join(dir, 'work') });
    await manager.connect();
    echoPort = await freePort();
    hello.spec.envs = { GREETING: 'hi there' };
    hello.spec.run = `[ "$SKYSHIFT_REPLICA" = 0 ] && node -e "require('net').createServer(s=>s.on('error',()=>{}).pipe(s)).listen(${echoPort},'127.0.0.1')" & exec sleep 600`;
    await manager.submit(hello, { ranks: [0, 1] });
    await manager.submit(done, { ranks: [0] });
    await waitFor('hello to run', async () => Object.values((await tasksOf(manager, hello))?.tasks ?? {}).every((s) => s === 'RUNNING'));
    await waitFor('done to finish', async () => (await tasksOf(manager, done))?.tasks['done-0'] === 'COMPLETED');
    await waitFor('the echo server', () => listening(echoPort));
  });

  after(async () => {
    delete process.env[SECRET];
    await killRecordedProcessGroups([join(dir, 'work')]);
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a command in the task: stdout, stderr and the exit code', async () => {
    const r = await run(await manager.exec(ref(hello), { task: 'hello-1', command: ['sh', '-c', 'echo out $SKYSHIFT_REPLICA; echo err >&2; exit 3'] }));
    assert.deepEqual(r, { stdout: 'out 1\n', stderr: 'err\n', code: 3 });
  });

  it('passes stdin and ends it on close', async () => {
    const r = await run(await manager.exec(ref(hello), { task: 'hello-0', command: ['wc', '-c'] }), 'twelve bytes');
    assert.equal(r.stdout.trim(), '12');
    assert.equal(r.code, 0);
  });

  it("runs as the replica, with the replica's environment and work dir, never SkyShift's", async () => {
    const r = await run(await manager.exec(ref(hello), { task: 'hello-0', command: ['sh', '-c', 'id -u; pwd; env'] }));
    const [uid, cwd, ...env] = r.stdout.trim().split('\n');
    const expectedUid = userInfo().uid === 0 ? 65534 : userInfo().uid; // nobody, as launch.ts runs replicas under root
    assert.equal(Number(uid), expectedUid);
    assert.match(cwd!, /\/jobs\/default_hello_[^/]+\/0\/work$/);
    assert.ok(env.includes(`HOME=${cwd}`), `HOME is the work dir: ${r.stdout}`);
    assert.ok(env.includes('GREETING=hi there'), "the job's own variables");
    assert.ok(env.includes('SKYSHIFT_REPLICA=0') && env.includes('SKYSHIFT_JOB=default/hello'));
    assert.ok(!r.stdout.includes(SECRET) && !r.stdout.includes('must-not-leak'), 'nothing of our environment');
  });

  it('starts a terminal at the size the client sends first, and without one once its output is read', async () => {
    const sized = await manager.exec(ref(hello), { task: 'hello-0', tty: true, command: ['stty', 'size'] });
    await sleep(300); // the client's size comes a round trip after exec() returned
    sized.resize?.(132, 50);
    assert.equal((await text(sized.stdout)).trim(), '50 132');
    const unsized = await manager.exec(ref(hello), { task: 'hello-0', tty: true, command: ['stty', 'size'] });
    assert.equal((await text(unsized.stdout)).trim(), '24 80', 'the default size, a moment after the first read');
  });

  it('allocates a terminal that takes resizes and reports the exit code', async () => {
    const session = await manager.exec(ref(hello), { task: 'hello-0', tty: true, command: ['sh', '-c', 'read x; stty size; tty; exit 4'] });
    session.resize?.(123, 45);
    const writer = session.stdin.getWriter();
    await writer.write(new TextEncoder().encode('go\r'));
    const [out, code, err] = await Promise.all([text(session.stdout), session.exitCode, text(session.stderr)]);
    assert.match(out, /45 123/);
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.equal(code, 4);
    assert.equal(err, '', 'a terminal merges stderr into stdout');
  });

  it('a command missing from PATH exits 127 with a message', async () => {
    const r = await run(await manager.exec(ref(hello), { task: 'hello-0', command: ['no-such-command-xyz'] }));
    assert.equal(r.code, 127);
    assert.match(r.stderr, /no-such-command-xyz.*not found/);
  });

  it('refuses unknown and finished tasks', async () => {
    await assert.rejects(manager.exec(ref(hello), { task: 'hello-7', command: ['true'] }), rejectsWith('NotFound'));
    await assert.rejects(manager.exec(ref(hello), { task: 'other-0', command: ['true'] }), rejectsWith('NotFound'));
    await assert.rejects(manager.exec(ref(done), { task: 'done-0', command: ['true'] }), /COMPLETED, not running/);
    await assert.rejects(manager.portForward(ref(done), { task: 'done-0', port: echoPort }), rejectsWith('Conflict'));
  });

  it('kills an abandoned command', async () => {
    const abort = new AbortController();
    const session = await manager.exec(ref(hello), { task: 'hello-0', command: ['sleep', '300'], signal: abort.signal });
    await sleep(200);
    const started = Date.now();
    abort.abort();
    const code = await session.exitCode;
    assert.ok(Date.now() - started < 3_000, 'ended within the grace period');
    assert.equal(code, 128 + 15, 'SIGTERM');
  });

  it('kills an abandoned terminal session whose output was cancelled, without an unhandled error', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const abort = new AbortController();
      const session = await manager.exec(ref(hello), { task: 'hello-0', tty: true, command: ['sleep', '300'], signal: abort.signal });
      session.resize?.(80, 24); // starts the terminal
      await sleep(200);
      await session.stdout.cancel();
      abort.abort();
      assert.equal(await session.exitCode, 128 + 15, 'SIGTERM');
      await sleep(100);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled, []);
  });

  it("forwards bytes to the task's port, and refuses a port nothing listens on", async () => {
    const { readable, writable } = await manager.portForward(ref(hello), { task: 'hello-0', port: echoPort });
    const payload = Buffer.alloc(256 * 1024, 7);
    const writer = writable.getWriter();
    const reading = (async () => {
      const got: Uint8Array[] = [];
      let n = 0;
      for await (const c of readable) {
        got.push(c);
        n += c.length;
        if (n >= payload.length) break;
      }
      return Buffer.concat(got);
    })();
    await writer.write(new Uint8Array(payload));
    const echoed = await reading;
    assert.ok(echoed.equals(payload), `echoed ${echoed.length} bytes`);
    await writer.close().catch(() => undefined);
    const closed = await freePort();
    await assert.rejects(manager.portForward(ref(hello), { task: 'hello-0', port: closed }), /cannot connect to port \d+.*nothing listens/);
    await assert.rejects(manager.portForward(ref(hello), { task: 'hello-0', port: 0 }), rejectsWith('BadRequest'));
  });
});

describe('local manager with runtime podman: exec enters the replica container', { skip: await podmanUnavailable() }, () => {
  let dir: string;
  let image: PodmanImage;
  let manager: LocalManager;
  const boxed = testJob('boxed', { run: 'exec sleep 600', envs: { INSIDE: 'yes' }, resources: { cpus: 1 } }, { uid: randomUUID() });

  before(async () => {
    image = await buildBusyboxImage();
    dir = await mkdtemp(join(tmpdir(), 'skyshift-exec-podman-'));
    await chmod(dir, 0o711);
    manager = new LocalManager({ name: 'exec-podman', workdir: join(dir, 'work'), runtime: 'podman', podmanRoot: image.root, podmanRunroot: image.runroot });
    await manager.connect();
    boxed.spec.image = image.image;
    await manager.submit(boxed, { ranks: [0] });
    await waitFor('the container to run', async () => (await tasksOf(manager, boxed))?.tasks['boxed-0'] === 'RUNNING', 30_000);
    // RUNNING is the podman client; the container itself may take a moment more.
    await waitFor('the container', async () => (await image.podman(['ps', '--format', '{{.Names}}'])).includes('skyshift-'), 30_000);
  });

  after(async () => {
    await killRecordedProcessGroups([join(dir, 'work')]);
    await image?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs in the container with its environment and work dir; stdin; the command's exit code", async () => {
    const r = await run(
      await manager.exec(ref(boxed), { task: 'boxed-0', command: ['sh', '-c', `cat ${MARKER_FILE}; echo "$INSIDE $SKYSHIFT_REPLICA"; pwd; cat; exit 6`] }),
      'from stdin',
    );
    assert.equal(r.stdout, `${MARKER_TEXT}\nyes 0\n/workdir\nfrom stdin`);
    assert.equal(r.code, 6);
  });

  it('allocates a terminal in the container', async () => {
    const session = await manager.exec(ref(boxed), { task: 'boxed-0', tty: true, command: ['sh', '-c', 'test -t 0 && echo "a terminal"; exit 2'] });
    const [out, code] = await Promise.all([text(session.stdout), session.exitCode]);
    assert.match(out, /a terminal/);
    assert.equal(code, 2);
  });
});
