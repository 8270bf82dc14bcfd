/**
 * The stream endpoints at the protocol level, on an in-process FAKE Kubernetes API server with a token: the Statuses
 * refused requests get, and the channel protocols no bundled client speaks by default (v4, base64, the bare
 * channel.k8s.io; port-forward channels for two ports), spoken here frame by frame with `ws`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createFakeKubeServer, type FakeKubeServer } from '../index.js';
import { closeStreams, handleStreamUpgrade, type StreamDeps } from './index.js';
import { waitFor } from '../../ports.js';

const TOKEN = 'streams-token';
const NS = 'default';
const auth = { authorization: `Bearer ${TOKEN}` };

let server: FakeKubeServer;
let base: string;
let dir: string;

async function createPod(name: string, containers: string[], command: string[]): Promise<void> {
  const res = await fetch(`${base}/api/v1/namespaces/${NS}/pods`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: containers.map((c) => ({ name: c, image: 'x', command })) },
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

/** A raw HTTP exchange (upgrade headers and all): status code and body; an accepted upgrade is closed at once. */
function raw(url: string, headers: Record<string, string>): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ code: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

interface Session {
  protocol: string;
  /** Every message the server sent, in order, as [channel, payload] (base64 protocols decoded). */
  frames: [number, string][];
  closeCode: number;
}

/** Opens `path` with `protocol`, sends `messages` (raw frames), collects everything until the server closes. */
function session(path: string, protocol: string, messages: (Buffer | string)[] = []): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, [protocol], { headers: auth });
    const frames: [number, string][] = [];
    const base64 = protocol.includes('base64');
    ws.on('open', () => messages.forEach((m) => ws.send(m)));
    ws.on('message', (data: Buffer) => {
      if (base64) frames.push([data[0]! - 48, Buffer.from(data.subarray(1).toString(), 'base64').toString()]);
      else frames.push([data[0]!, data.subarray(1).toString()]);
    });
    ws.on('error', reject);
    ws.on('close', (code) => resolve({ protocol: ws.protocol, frames, closeCode: code }));
  });
}

const execPath = (pod: string, query: string) => `/api/v1/namespaces/${NS}/pods/${pod}/exec?${query}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-streams-unit-'));
  server = createFakeKubeServer({ dir, token: TOKEN });
  base = await server.listen(0);
  await createPod('two', ['a', 'b'], ['sleep', '600']);
  await createPod('one', ['main'], ['sleep', '600']);
  await waitFor('pod one Running', async () => {
    const pod = (await (await fetch(`${base}/api/v1/namespaces/${NS}/pods/one`, { headers: auth })).json()) as { status?: { phase?: string } };
    return pod.status?.phase === 'Running';
  });
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('refused stream requests (before any upgrade)', () => {
  const ws = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
  const exec = (pod: string, query = 'command=true&stdout=true') => `${base}${execPath(pod, query)}`;

  it('401 Unauthorized Status without the bearer token', async () => {
    const res = await raw(exec('two'), { ...ws, 'sec-websocket-protocol': 'v5.channel.k8s.io' });
    assert.equal(res.code, 401);
    assert.equal(res.body, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}');
  });

  it('answers bad requests with the real Statuses (404, 400, 403), never a 500, and counts every request', async () => {
    const before = server.counts.get('exec pods') ?? 0;
    const pf = (query: string) => `${base}/api/v1/namespaces/${NS}/pods/two/portforward${query}`;
    const cases: [string, Record<string, string>, number, string][] = [
      [exec('nope'), ws, 404, 'pods "nope" not found'],
      [exec('two'), ws, 400, 'a container name must be specified for pod two, choose one of: [a b]'],
      [exec('two', 'command=true&stdout=true&container=c'), ws, 400, 'container c is not valid for pod two'],
      [exec('two', 'stdout=true&container=a'), ws, 400, 'you must specify at least one command for the container'],
      [exec('two', 'command=true&container=a'), ws, 400, 'you must specify at least 1 of stdin, stdout, stderr'],
      [exec('two', 'command=true&stdout=yes&container=a'), ws, 400, 'strconv.ParseBool: parsing "yes": invalid syntax'],
      [exec('two', 'command=true&stdout=true&container=a'), { ...ws, 'sec-websocket-protocol': 'nonsense' }, 403, 'requested protocol(s) are not supported'],
      [exec('two', 'command=true&stdout=true&container=a'), {}, 400, 'Upgrade request required'],
      [`${base}/api/v1/namespaces/${NS}/pods/two/attach?stdout=true`, ws, 400, 'the fake Kubernetes API server does not implement pods/attach'],
      [pf('?ports=0'), ws, 400, 'port "0" must be > 0'],
      [pf('?ports=http'), ws, 400, 'unable to parse "http" as a port'],
      [pf(''), ws, 400, 'query parameter "ports" is required'],
    ];
    for (const [url, headers, code, message] of cases) {
      const res = await raw(url, { ...auth, ...headers });
      assert.equal(res.code, code, `${url}: ${res.body}`);
      assert.ok((JSON.parse(res.body) as { message: string }).message.startsWith(message), `${url}: ${res.body}`);
    }
    assert.equal((server.counts.get('exec pods') ?? 0) - before, 8);
    assert.ok((server.counts.get('portforward pods') ?? 0) >= 3);
  });
});

describe('exec channel protocols frame by frame', () => {
  const failing = 'command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262%3B+exit+5&stdout=true&stderr=true';

  it('v4.channel.k8s.io: an empty first stdout message, output, the JSON Status on channel 3, a normal close', async () => {
    const s = await session(execPath('one', failing), 'v4.channel.k8s.io');
    assert.equal(s.protocol, 'v4.channel.k8s.io');
    assert.deepEqual(s.frames.slice(0, 1), [[1, '']]);
    assert.deepEqual(s.frames.slice(1, -1).sort(), [
      [1, 'out\n'],
      [2, 'err\n'],
    ]);
    const [channel, status] = s.frames.at(-1)!;
    assert.equal(channel, 3);
    assert.deepEqual(JSON.parse(status), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: command terminated with exit code 5',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '5' }] },
    });
    assert.equal(s.closeCode, 1000);
  });

  it('base64.channel.k8s.io (v1): text frames, and the failure as text on channel 3', async () => {
    const s = await session(execPath('one', failing), 'base64.channel.k8s.io');
    assert.deepEqual(s.frames.at(-1), [3, 'command terminated with non-zero exit code: command terminated with exit code 5']);
    assert.ok(s.frames.some(([c, d]) => c === 1 && d === 'out\n'));
  });

  it('channel.k8s.io (v1): nothing on channel 3 when the command succeeds', async () => {
    const s = await session(execPath('one', 'command=printf&command=ok&stdout=true'), 'channel.k8s.io');
    assert.deepEqual(s.frames, [
      [1, ''],
      [1, 'ok'],
    ]);
  });

  it("v5.channel.k8s.io: stdin, then [255, 0] closes it; the command sees EOF; resize JSON doesn't disturb a pipe", async () => {
    const stdin = (text: string) => Buffer.concat([Buffer.of(0), Buffer.from(text)]);
    const s = await session(execPath('one', 'command=wc&command=-c&stdin=true&stdout=true'), 'v5.channel.k8s.io', [
      stdin('12345'),
      Buffer.concat([Buffer.of(4), Buffer.from('{"Width":100,"Height":30}')]),
      stdin('678'),
      Buffer.of(255, 0),
    ]);
    assert.deepEqual(
      s.frames.filter(([c]) => c === 1).map(([, d]) => d.trim()),
      ['', '8'],
    );
    assert.deepEqual(JSON.parse(s.frames.at(-1)![1]), { metadata: {}, status: 'Success' });
  });
});

describe('port-forward channels (v4.channel.k8s.io) for two ports', () => {
  let listener: Server;
  let port: number;
  let podIP: string;
  before(async () => {
    podIP = await waitFor('pod one IP', async () => {
      const pod = (await (await fetch(`${base}/api/v1/namespaces/${NS}/pods/one`, { headers: auth })).json()) as { status?: { podIP?: string } };
      return pod.status?.podIP;
    });
    // Stands in for a server the pod runs: it listens on the pod's IP, which is all port-forward dials.
    listener = createServer((s) => s.end('hello from the pod\n'));
    await new Promise<void>((resolve) => listener.listen(0, podIP, resolve));
    port = (listener.address() as { port: number }).port;
  });
  after(() => listener?.close());

  it("each channel opens with its port (2 bytes little-endian); data on 2i, the kubelet's error on 2i+1", async () => {
    const s = await session(`/api/v1/namespaces/${NS}/pods/one/portforward?ports=${port},9`, 'v4.channel.k8s.io');
    const le = (p: number) => Buffer.from([p & 0xff, p >> 8]).toString();
    assert.deepEqual(
      s.frames.filter(([c]) => c === 0),
      [
        [0, le(port)],
        [0, 'hello from the pod\n'],
      ],
    );
    assert.deepEqual(
      s.frames.find(([c]) => c === 2),
      [2, le(9)],
    );
    const errors = s.frames.filter(([c]) => c === 3).map(([, d]) => d);
    assert.equal(errors[0], le(9));
    assert.match(
      errors[1] ?? '',
      new RegExp(`^error forwarding port 9 to pod one, uid .*: .*dial tcp4 ${podIP.replace(/\./g, '\\.')}:9: connect: connection refused$`),
    );
    assert.equal(s.closeCode, 1000);
  });
});

describe('closeStreams(deps)', () => {
  it('ends the open exec sessions served with those deps and kills their commands', async () => {
    const pod = { podIP: '127.0.0.1', phase: 'Running', containers: ['main'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: dir };
    const deps: StreamDeps = { lookupPod: () => pod, count: () => undefined };
    const http = createHttpServer().on('upgrade', (req, socket, head) => handleStreamUpgrade(req, socket, head, deps) || socket.destroy());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    let ws: WebSocket | undefined;
    let pid = 0;
    try {
      const mark = join(dir, 'close-streams.pid');
      const query = `command=sh&command=-c&command=${encodeURIComponent(`echo $$ > ${mark}; exec sleep 600`)}&stdout=true`;
      const url = `ws://127.0.0.1:${(http.address() as { port: number }).port}${execPath('any', query)}`;
      const client = (ws = new WebSocket(url, ['v5.channel.k8s.io']));
      const closed = new Promise((resolve) => client.on('close', resolve));
      pid = await waitFor('the command to start', () => existsSync(mark) && Number(readFileSync(mark, 'utf8')));
      closeStreams(deps);
      await Promise.race([closed, sleep(5000).then(() => assert.fail('the exec connection is still open'))]);
      await waitFor(
        'the command to be killed',
        () => {
          try {
            process.kill(pid, 0);
            return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // alive: false; a zombie is dead
          } catch {
            return true;
          }
        },
        5000,
      );
    } finally {
      ws?.terminate();
      try {
        if (pid) process.kill(-pid, 'SIGKILL'); // left only when the test failed
      } catch {
        /* gone, as it should be */
      }
      http.close();
    }
  });
});
