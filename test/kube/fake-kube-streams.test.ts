/**
 * Fidelity of the FAKE Kubernetes API server's exec and port-forward (test/infra/fake-kube/streams), driven by the real
 * clients: kubectl 1.32 (exec over WebSocket v5.channel.k8s.io, or SPDY/3.1 as kubectl < 1.30 speaks it; port-forward
 * over SPDY/3.1 tunnelled in WebSocket, or plain SPDY/3.1) and @kubernetes/client-node 1.4's Exec and PortForward.
 * Real bytes through real processes: the pod is a process on its own loopback IP; every process is stopped by PID.
 * The endpoints' Statuses and the channel protocols frame by frame: test/infra/fake-kube/streams/streams.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import { startFakeKube, writeKubeconfig, type FakeKube } from '../infra/fake-kube/index.js';
import { waitFor } from '../infra/ports.js';

const KUBECTL = '/usr/bin/kubectl';
const NS = 'default';
/** The pod: an echo server on its pod IP, port 8080, with env and a working directory the exec must see. */
const ECHO = "console.log('cwd=' + process.cwd()); require('net').createServer((s)=>{s.on('error',()=>{});s.pipe(s)}).listen(8080,process.env.POD_IP)";

let fake: FakeKube;
let dir: string;
let kubeconfig: string;
const children = new Set<ChildProcess>();

/** SIGKILL to the child's PID (kill() of an exited child is a no-op). */
function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.delete(child);
}

type Run = { code: number | null; stdout: Buffer; stderr: string };
type Forward = { port: number; child: ChildProcess; stderr: () => string };

/** kubectl's minor version, or why there is no usable kubectl. */
const KUBECTL_MINOR: number | string = (() => {
  if (!existsSync(KUBECTL)) return 'no kubectl at /usr/bin/kubectl (scripts/install-test-deps.sh installs one)';
  try {
    return parseInt(JSON.parse(execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 10_000 })).clientVersion.minor, 10);
  } catch (err) {
    return `kubectl version failed: ${(err as Error).message}`;
  }
})();
/** Why a test cannot run with this kubectl (missing, or older than 1.`minor`, which `cannot`), else false. */
const needsKubectl = (minor: number, cannot = ''): string | false =>
  typeof KUBECTL_MINOR === 'string' ? KUBECTL_MINOR : KUBECTL_MINOR < minor ? `kubectl 1.${KUBECTL_MINOR} cannot ${cannot} (kubectl 1.${minor}+)` : false;

/** Runs kubectl to its end (killed after `timeoutMs`), `input` on its stdin. */
function kubectl(args: string[], opts: { input?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => stopChild(child), opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** `kubectl port-forward pod/NAME 0:REMOTE`; resolves the local port kubectl chose, and the child (stop it). */
async function portForward(pod: string, remote: number, env: Record<string, string> = {}): Promise<Forward> {
  const child = spawn(KUBECTL, ['port-forward', '-v=4', '--address', '127.0.0.1', `pod/${pod}`, `0:${remote}`], {
    env: { ...process.env, KUBECONFIG: kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await waitFor(`kubectl port-forward to listen (stderr: ${err})`, () => {
    const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
    return m && Number(m[2]) === remote ? Number(m[1]) : undefined;
  });
  return { port, child, stderr: () => err };
}

/** Reads `n` bytes from `stream`, or what came before it ended; fails after 20 s. */
function readBytes(stream: NodeJS.ReadableStream, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = () => (clearTimeout(timer), resolve(Buffer.concat(chunks)));
    const timer = setTimeout(() => reject(new Error(`timed out after ${got} of ${n} bytes`)), 20_000);
    stream.on('data', (c: Buffer) => (chunks.push(c), (got += c.length) >= n && done()));
    stream.on('error', (err) => (clearTimeout(timer), reject(err)));
    stream.on('end', done);
  });
}

/** One TCP connection to host:port: sends `payload`, reads as many bytes back, closes. */
async function echoRoundTrip(port: number, payload: Buffer, host = '127.0.0.1'): Promise<Buffer> {
  const socket = connect(port, host, () => socket.write(payload));
  return readBytes(socket, payload.length).finally(() => socket.destroy());
}

/** client-node's KubeConfig for the fake: plain http needs skipTLSVerify in client-node 1.4 (its WebSocket handler checks). */
function clientConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: NS }],
    currentContext: 'fake',
  });
  return kc;
}

async function createPod(name: string, spec: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fake.url}/api/v1/namespaces/${NS}/pods`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy: 'Never', ...spec } }),
  });
  assert.equal(res.status, 201, await res.text());
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-streams-'));
  // No token: kubectl 1.32 does not send a bearer token to a plain-http server (the token check is tested in-process below).
  fake = await startFakeKube({ dir, nodes: [{ name: 'node-1' }] });
  kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, [{ name: 'fake', server: fake.url, namespace: NS }]);
  await createPod('web', {
    containers: [
      {
        name: 'main',
        image: 'ignored',
        command: ['node', '-e', ECHO],
        env: [
          { name: 'GREETING', value: 'hello from the pod' },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
      },
    ],
  });
  // Never scheduled (no node has the label): stays Pending.
  await createPod('pending', { nodeSelector: { 'no-such-label': 'x' }, containers: [{ name: 'main', image: 'ignored', command: ['sleep', '60'] }] });
  const podIP = await waitFor('pod web Running with an IP', async () => {
    const pod = (await (await fetch(`${fake.url}/api/v1/namespaces/${NS}/pods/web`)).json()) as { status?: { phase?: string; podIP?: string } };
    return pod.status?.phase === 'Running' && pod.status.podIP;
  });
  // The echo server listens once node has started; port-forward tests need it.
  await waitFor('echo server on the pod IP', () =>
    echoRoundTrip(8080, Buffer.from('ping'), podIP).then(
      (b) => b.toString() === 'ping',
      () => false,
    ),
  );
});

after(async () => {
  for (const child of [...children]) stopChild(child);
  await fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXEC_TRANSPORTS: { name: string; env: Record<string, string>; notRunning: string; skip: string | false }[] = [
  {
    name: 'WebSocket v5.channel.k8s.io (kubectl 1.30+ default; older kubectl cannot speak WebSocket exec)',
    env: {},
    notRunning: 'error: Internal error occurred: unable to upgrade connection',
    skip: needsKubectl(30, 'speak WebSocket exec'),
  },
  // What kubectl < 1.30 speaks: kubectl 1.32 falls back to it when told to; the answers are the kubelet's own.
  {
    name: 'SPDY/3.1 remotecommand v4 (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)',
    env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    notRunning: 'error: unable to upgrade connection',
    skip: needsKubectl(0),
  },
];

for (const transport of EXEC_TRANSPORTS) {
  describe(`kubectl exec over ${transport.name}`, { skip: transport.skip }, () => {
    const exec = (args: string[], input?: Buffer | string) => kubectl(['exec', ...args], { env: transport.env, ...(input !== undefined ? { input } : {}) });

    it('prints stdout and stderr, sees the pod env and cwd, and exits with the command\'s code ("command terminated with exit code 3")', async () => {
      const run = await exec(['web', '--', 'sh', '-c', 'echo out; echo "$GREETING"; echo "cwd=$(pwd)"; echo err >&2; exit 3']);
      const podCwd = (await kubectl(['logs', 'web'])).stdout.toString().split('\n')[0]; // the pod's own process prints its cwd
      assert.equal(run.stdout.toString(), `out\nhello from the pod\n${podCwd}\n`);
      assert.equal(run.stderr, 'err\ncommand terminated with exit code 3\n');
      assert.equal(run.code, 3);
      const ok = await exec(['web', '-c', 'main', '--', 'printf', 'a b']);
      assert.deepEqual([ok.code, ok.stdout.toString(), ok.stderr], [0, 'a b', '']);
    });

    it('-i pipes stdin to the command, whose end the command sees as EOF; 3 MiB come back byte for byte', async () => {
      const lines = await exec(['-i', 'web', '--', 'sh', '-c', 'wc -l'], 'one\ntwo\nthree\n');
      assert.deepEqual([lines.code, lines.stdout.toString().trim(), lines.stderr], [0, '3', '']);
      const payload = randomBytes(3 << 20);
      const cat = await exec(['-i', 'web', '--', 'cat'], payload);
      assert.equal(cat.code, 0, cat.stderr);
      assert.ok(cat.stdout.equals(payload), `cat returned ${cat.stdout.length} bytes, not the ${payload.length} sent`);
    });

    const noScript = existsSync('/usr/bin/script') ? false : 'no script(1) here to give kubectl a terminal';
    it("-it on a real terminal (script(1)): the command runs on a tty of the client's size", { skip: noScript }, async () => {
      const cmd = `stty cols 123 rows 45; ${KUBECTL} exec -it web -- sh -c 'stty size; test -t 0 && echo tty; exit 4'`;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        env: { ...process.env, KUBECONFIG: kubeconfig, ...transport.env },
        stdio: ['pipe', 'pipe', 'pipe'], // stdin stays open: at its EOF script(1) types a NUL, echoed as ^@
      });
      children.add(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      child.stdin.destroy();
      assert.match(out, /45 123\r\ntty\r\ncommand terminated with exit code 4\r\n$/);
      assert.equal(code, 4);
    });

    it('a pod deleted under a running exec takes the command with it: "command terminated with exit code 137"', async () => {
      const pod = `doomed-${transport.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS ?? 'ws'}`;
      await createPod(pod, { containers: [{ name: 'main', image: 'ignored', command: ['sleep', '600'] }] });
      await waitFor(`pod ${pod} Running`, async () => (await kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])).stdout.toString() === 'Running');
      const mark = join(dir, `${pod}.started`);
      const run = exec([pod, '--', 'sh', '-c', `touch ${mark}; sleep 600`]);
      await waitFor('the exec to start', () => existsSync(mark));
      assert.equal((await kubectl(['delete', 'pod', pod, '--wait=false'])).code, 0);
      assert.deepEqual(await run.then((r) => [r.code, r.stderr]), [137, 'command terminated with exit code 137\n']);
    });

    it('errors as a real cluster gives them: unknown pod, pod not running yet, command not in the container', async () => {
      const unknown = await exec(['nope', '--', 'true']);
      assert.deepEqual([unknown.code, unknown.stdout.length, unknown.stderr], [1, 0, 'Error from server (NotFound): pods "nope" not found\n']);
      const pending = await exec(['pending', '--', 'true']);
      assert.deepEqual([pending.code, pending.stderr], [1, `${transport.notRunning}: container not found ("main")\n`]);
      const missing = await exec(['web', '--', 'no-such-command']);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^error: Internal error occurred: error executing command in container: .*exec: "no-such-command": executable file not found in \$PATH/,
      );
    });
  });
}

describe('kubectl port-forward', { skip: needsKubectl(0) }, () => {
  for (const [transport, env, skip] of [
    ['SPDY/3.1 tunnelled in WebSocket (kubectl 1.31+ default)', {}, needsKubectl(31, 'tunnel port-forward in WebSocket')],
    ['plain SPDY/3.1 upgrade (older kubectl, or KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, false],
  ] as const) {
    it(`${transport}: several connections at once, a 1 MiB round trip and half-closes reach the pod's port`, { skip }, async (t) => {
      const pf = await portForward('web', 8080, env);
      t.after(() => stopChild(pf.child));
      const small = await Promise.all([1, 2, 3, 4].map((i) => echoRoundTrip(pf.port, Buffer.from(`connection ${i}\n`))));
      assert.deepEqual(
        small.map((b) => b.toString()),
        [1, 2, 3, 4].map((i) => `connection ${i}\n`),
      );
      const payload = randomBytes(1 << 20);
      const back = await echoRoundTrip(pf.port, payload);
      assert.ok(back.equals(payload), `got ${back.length} bytes back, not the ${payload.length} sent`);
      // Half-close both ways: the client's FIN reaches the pod, whose echo server then ends, and its FIN comes back.
      const half = connect(pf.port, '127.0.0.1', () => half.end('half-closed\n'));
      assert.equal((await readBytes(half, Infinity)).toString(), 'half-closed\n');
      assert.match(pf.stderr(), env.KUBECTL_PORT_FORWARD_WEBSOCKETS ? /^(?![\s\S]*negotiated protocol)/ : /negotiated protocol: portforward\.k8s\.io/);
      assert.equal(pf.child.exitCode, null, 'kubectl port-forward is still running');
    });
  }

  const lostSkip = needsKubectl(30, 'be relied on to exit on a forwarding error as 1.32 does');
  it('a port nothing listens on: kubectl reports the kubelet\'s error and exits "lost connection to pod"', { skip: lostSkip }, async (t) => {
    const pf = await portForward('web', 9, {});
    t.after(() => stopChild(pf.child));
    const exited = new Promise<number | null>((resolve) => pf.child.once('exit', (code) => resolve(code)));
    await echoRoundTrip(pf.port, Buffer.from('x')).catch(() => Buffer.alloc(0));
    assert.equal(await exited, 1);
    assert.match(
      pf.stderr(),
      /an error occurred forwarding \d+ -> 9: error forwarding port 9 to pod web, uid .*dial tcp4 [\d.]+:9: connect: connection refused/,
    );
    assert.match(pf.stderr(), /error: lost connection to pod/);
  });
});

describe('@kubernetes/client-node Exec and PortForward', () => {
  async function clientExec(command: string[], opts: { stdin?: Buffer; tty?: boolean } = {}): Promise<{ stdout: string; stderr: string; status: V1Status }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stdin = opts.stdin ? new PassThrough() : null;
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(clientConfig())
        .exec(NS, 'web', 'main', command, stdout, opts.tty ? null : stderr, stdin, opts.tty ?? false, resolve)
        .then(() => stdin?.end(opts.stdin), reject);
    });
    return { stdout: out, stderr: err, status };
  }

  it('Exec: stdout, stderr, stdin, a tty and the exit code in the status callback (NonZeroExitCode, cause ExitCode)', async () => {
    const failed = await clientExec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([failed.stdout, failed.stderr], ['out\n', 'err\n']);
    assert.equal(failed.status.status, 'Failure');
    assert.equal(failed.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.status.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
    const ok = await clientExec(['sh', '-c', 'cat; echo done'], { stdin: Buffer.from('from stdin\n') });
    assert.deepEqual([ok.stdout, ok.status.status], ['from stdin\ndone\n', 'Success']);
    const tty = await clientExec(['sh', '-c', 'test -t 0 && test -t 1 && echo "on a tty"'], { tty: true });
    assert.deepEqual([tty.stdout.replace(/\r/g, ''), tty.status.status], ['on a tty\n', 'Success']);
  });

  it("PortForward (v4.channel.k8s.io): a 1 MiB round trip through the pod's port", async () => {
    const [input, output, errors] = [new PassThrough(), new PassThrough(), new PassThrough()];
    let errorText = '';
    errors.on('data', (d: Buffer) => (errorText += d.toString()));
    const payload = randomBytes(1 << 20);
    const back = readBytes(output, payload.length);
    const ws = (await new PortForward(clientConfig()).portForward(NS, 'web', [8080], output, errors, input)) as { close(): void };
    try {
      input.write(payload);
      assert.ok((await back).equals(payload), 'the bytes came back unchanged');
      assert.equal(errorText, '');
    } finally {
      ws.close();
    }
  });
});
