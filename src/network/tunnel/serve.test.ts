/**
 * The tunnel's two ends together, in process over a real WebSocket: the API
 * server's TunnelManager opening streams, the agent's serveStream answering
 * them with a ClusterManager made for the test (its streams count what they
 * produce, so backpressure is measured, not assumed).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { ApiError } from '../../api/index.js';
import type { ClusterManager, ExecSession, JobRef, LogOptions } from '../../managers/index.js';
import { TunnelManager } from '../../managers/tunnel/index.js';
import { DEFAULT_WINDOW_BYTES, type Mux } from './mux.js';
import { serveStream } from './serve.js';
import { muxOverWebSocket } from './ws-transport.js';

const JOB: JobRef = { uid: 'u1', namespace: 'default', name: 'job' };
const probe = { produced: 0, logsEnded: false, halfClosed: false };

/** A manager whose exec of `yes` produces stdout without end, and whose port-forward answers "bye" after the client's EOF. */
const fake = {
  type: 'fake',
  async *logs(_job: JobRef, options: LogOptions) {
    try {
      for (let i = 0; ; i++) {
        if (options.signal?.aborted) return;
        yield `line ${i}`;
        if (!options.follow && i === 2) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      probe.logsEnded = true;
    }
  },
  async exec(_job: JobRef, options: { task: string; command: string[] }): Promise<ExecSession> {
    if (options.task !== 'job-0') throw new ApiError('NotFound', `task '${options.task}' not found`);
    const chunk = new Uint8Array(16 * 1024).fill(121);
    const endless = options.command[0] === 'yes';
    return {
      stdin: new WritableStream(),
      stdout: new ReadableStream<Uint8Array>({
        pull(c) {
          if (!endless) return c.close();
          probe.produced += chunk.byteLength;
          c.enqueue(chunk);
        },
      }),
      stderr: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('warn\n')), c.close()) }),
      exitCode: endless ? new Promise(() => undefined) : Promise.resolve(3),
    };
  },
  async portForward() {
    let answer!: ReadableStreamDefaultController<Uint8Array>;
    return {
      readable: new ReadableStream<Uint8Array>({ start: (c) => void (answer = c) }),
      writable: new WritableStream<Uint8Array>({
        close() {
          probe.halfClosed = true;
          answer.enqueue(new TextEncoder().encode('bye'));
          answer.close();
        },
      }),
    };
  },
} as unknown as ClusterManager;

let wss: WebSocketServer;
let serverMux: Mux;
let manager: TunnelManager;

before(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection');
  const agentWs = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await once(agentWs, 'open');
  muxOverWebSocket(agentWs, { side: 'agent', pingMs: 0, onStream: (s) => serveStream(fake, 'lab', s) });
  const [serverWs] = (await accepted) as [WebSocket];
  serverMux = muxOverWebSocket(serverWs, { side: 'server', pingMs: 0 });
  manager = new TunnelManager('lab', () => serverMux);
});
after(() => {
  serverMux.terminate('test over');
  wss.close();
});

async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += Buffer.from(chunk).toString();
  return text;
}

describe('TunnelManager and serveStream', () => {
  test('logs: whole lines; a consumer that stops ends the agent-side read', async () => {
    const lines: string[] = [];
    for await (const l of manager.logs(JOB, { follow: false })) lines.push(l);
    assert.deepEqual(lines, ['line 0\n', 'line 1\n', 'line 2\n']);
    probe.logsEnded = false;
    for await (const l of manager.logs(JOB, { follow: true })) if (l === 'line 5\n') break;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(probe.logsEnded, "the agent's log iterator was closed");
  });

  test('exec: stdout, stderr and exit code; a reader that does not read holds the producer at a bounded amount', async () => {
    const done = await manager.exec(JOB, { task: 'job-0', command: ['true'] });
    assert.deepEqual([await readText(done.stdout), await readText(done.stderr), await done.exitCode], ['', 'warn\n', 3]);
    const ctrl = new AbortController();
    probe.produced = 0;
    const flood = await manager.exec(JOB, { task: 'job-0', command: ['yes'], signal: ctrl.signal });
    await new Promise((r) => setTimeout(r, 300));
    const stalledAt = probe.produced;
    // The window + the outlet's 64 KiB + a chunk or two in flight: nowhere near unbounded.
    assert.ok(stalledAt > 0 && stalledAt <= DEFAULT_WINDOW_BYTES + 256 * 1024, `produced ${stalledAt} bytes while nobody read`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(probe.produced, stalledAt, 'the producer stays stopped');
    const reader = flood.stdout.getReader();
    let read = 0;
    while (read < 8 * 1024 * 1024) read += (await reader.read()).value?.byteLength ?? 0;
    assert.ok(probe.produced >= 8 * 1024 * 1024, 'reading lets it go on');
    ctrl.abort();
    assert.equal(await flood.exitCode, 255, 'a cancelled stream reports the lost session');
  });

  test("port-forward: the client's half-close reaches the task, whose answer still comes back", async () => {
    const conn = await manager.portForward(JOB, { task: 'job-0', port: 80 });
    const answer = readText(conn.readable);
    await conn.writable.getWriter().close();
    assert.equal(await answer, 'bye');
    assert.ok(probe.halfClosed);
  });

  test("refusals carry the agent's reason: 404 from its manager, 400 for a malformed request, 503 while away; skylet-only methods 501", async () => {
    await assert.rejects(
      manager.exec(JOB, { task: 'job-7', command: ['x'] }),
      (e: unknown) => e instanceof ApiError && e.code === 404 && /job-7/.test(e.message),
    );
    const bare = new TunnelManager('lab', () => ({ open: (r) => serverMux.open({ ...r, op: 'exec', task: undefined }) }));
    await assert.rejects(bare.exec(JOB, { task: 'job-0', command: ['x'] }), (e: unknown) => e instanceof ApiError && e.code === 400);
    const away = new TunnelManager('gone', () => undefined);
    await assert.rejects(
      away.exec(JOB, { task: 'job-0', command: ['x'] }),
      (e: unknown) => e instanceof ApiError && e.code === 503 && /agent not connected/.test(e.message),
    );
    await assert.rejects(manager.status(), (e: unknown) => e instanceof ApiError && e.code === 501 && /'lab'/.test(e.message));
  });
});
