import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { ApiError } from '../../api/index.js';
import { encodeData, encodeOpen, MAX_DATA_BYTES, MAX_FRAME_BYTES } from './frames.js';
import { DEFAULT_WINDOW_BYTES, Mux, TRANSPORT_HIGH_WATER_BYTES, type FrameTransport, type MuxOptions } from './mux.js';
import { FRAME_COST_BYTES, type MuxStream } from './stream.js';
import { muxOverWebSocket } from './ws-transport.js';

/** Two muxes joined by an in-memory transport that delivers each frame on a later turn and counts what is in flight. */
function pair(server: Partial<MuxOptions> = {}, agent: Partial<MuxOptions> = {}) {
  const inFlight = { toAgent: 0, toServer: 0, maxToServer: 0 };
  const transport = (toAgent: boolean): FrameTransport => ({
    send(frame) {
      if (toAgent) inFlight.toAgent += frame.length;
      else inFlight.maxToServer = Math.max(inFlight.maxToServer, (inFlight.toServer += frame.length));
      setImmediate(() => {
        if (toAgent) inFlight.toAgent -= frame.length;
        else inFlight.toServer -= frame.length;
        (toAgent ? agentMux : serverMux).receive(frame);
      });
    },
    get bufferedAmount() {
      return toAgent ? inFlight.toAgent : inFlight.toServer;
    },
    close: (reason) => setImmediate(() => (toAgent ? agentMux : serverMux).terminate(reason)),
  });
  // The transports reach the muxes only on later turns, after both exist.
  const serverMux: Mux = new Mux(transport(true), { side: 'server', ...server });
  const agentMux: Mux = new Mux(transport(false), { side: 'agent', ...agent });
  return { serverMux, agentMux, inFlight };
}

async function readAll(stream: MuxStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const m of stream) parts.push(Buffer.from(m.data));
  return Buffer.concat(parts);
}

/** Agent handler: echoes every message back on its channel, half-closes when the opener does. */
function echo(stream: MuxStream): void {
  void (async () => {
    try {
      for await (const m of stream) await stream.write(m.data, m.channel);
      await stream.close();
    } catch {
      // reset
    }
  })();
}

const rejectsWith = (reason: string) => (err: unknown) => err instanceof ApiError && err.reason === reason;

describe('tunnel mux', () => {
  test('a stream carries its request, bytes both ways on channels, and half-closes each way', async () => {
    const seen: unknown[] = [];
    const { serverMux, agentMux } = pair({}, { onStream: (s) => (seen.push(s.request), echo(s)) });
    const s = serverMux.open({ op: 'echo', n: 1 });
    assert.equal(s.id % 2, 0, 'the server opens even ids');
    const payload = randomBytes(300_000);
    const back = readAll(s);
    await s.write(payload, 1);
    await s.close();
    assert.deepEqual(await back, payload);
    assert.deepEqual(seen, [{ op: 'echo', n: 1 }]);
    // Both sides closed: the stream leaves both tables.
    await new Promise((r) => setImmediate(r));
    assert.equal(serverMux.size, 0);
    assert.equal(agentMux.size, 0);
    await assert.rejects(s.write(Buffer.from('late')), rejectsWith('Conflict'));
  });

  test('backpressure: a reader that stops holds the writer at one window, and other streams keep flowing', async () => {
    const window = 128 * 1024;
    const stalled: MuxStream[] = [];
    const { serverMux, inFlight } = pair(
      { window },
      {
        window,
        onStream: (s) => {
          if ((s.request as { op: string }).op === 'flood') {
            stalled.push(s);
            // Writes 4 MiB towards a server-side reader that never reads.
            void (async () => {
              for (let i = 0; i < 64; i++) await s.write(randomBytes(64 * 1024), 1).catch(() => undefined);
            })();
          } else echo(s);
        },
      },
    );
    const flood = serverMux.open({ op: 'flood' });
    await new Promise((r) => setTimeout(r, 200));
    // Nothing read: at most one window was ever in flight or queued towards the server.
    assert.ok(inFlight.maxToServer <= window + 64 * 32, `in flight ${inFlight.maxToServer} > window ${window}`);
    const queued = (flood as unknown as { queue: { data: Uint8Array }[] }).queue.reduce((n, m) => n + m.data.byteLength, 0);
    assert.ok(queued <= window, `the reader's queue holds ${queued} bytes, more than the window`);
    // Another stream on the same tunnel is not blocked by the stalled one.
    const other = serverMux.open({ op: 'echo' });
    const data = randomBytes(1024 * 1024);
    const back = readAll(other);
    await other.write(data, 1);
    await other.close();
    assert.deepEqual(await back, data);
    // The stalled reader starts reading: everything arrives, in order, and the stream then ends normally.
    let total = 0;
    const reading = (async () => {
      for (let m = await flood.read(); m; m = await flood.read()) total += m.data.byteLength;
    })();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(total, 64 * 64 * 1024);
    await stalled[0]!.close();
    await reading;
  });

  test('tiny messages are bounded by count too: each costs its bytes plus a fixed amount of the window', async () => {
    const window = 128 * 1024;
    let sent = 0;
    const { serverMux } = pair(
      { window },
      {
        window,
        onStream: (s) =>
          void (async () => {
            for (let i = 0; i < 100_000; i++)
              await s.write(Buffer.of(1), 1).then(
                () => sent++,
                () => undefined,
              );
          })(),
      },
    );
    const s = serverMux.open({});
    await new Promise((r) => setTimeout(r, 200));
    const queued = (s as unknown as { queue: unknown[] }).queue.length;
    assert.ok(queued <= window / (1 + FRAME_COST_BYTES), `${queued} one-byte messages queued unread`);
    assert.ok(sent <= window / (1 + FRAME_COST_BYTES) + 1, `the writer got ahead by ${sent} messages`);
    s.reset();
  });

  test('a slow link: DATA waits while the transport is full instead of piling up or ending the tunnel', async () => {
    const link = { buffered: 0, frames: 0 };
    const mux = new Mux(
      {
        send: (frame) => {
          link.frames++;
          link.buffered += frame.length;
        },
        get bufferedAmount() {
          return link.buffered;
        },
        close: () => undefined,
      },
      { side: 'server' },
    );
    // 8 streams of a full window each would queue 8 MiB: the link holds at most its high-water mark (+ one frame).
    const writes = Array.from({ length: 8 }, () => mux.open({}).write(Buffer.alloc(DEFAULT_WINDOW_BYTES - 64 * 1024), 1));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(link.buffered <= TRANSPORT_HIGH_WATER_BYTES + MAX_FRAME_BYTES + 5 + 64 * 8, `the link holds ${link.buffered} bytes`);
    assert.ok(!mux.closed, 'a slow link is not a dead peer');
    const before = link.frames;
    link.buffered = 0; // the link drains
    await Promise.all(writes);
    assert.ok(link.frames > before, 'the writers went on once it drained');
  });

  test('200 concurrent streams each carry their own bytes intact', async () => {
    const { serverMux, agentMux } = pair({}, { onStream: echo });
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const s = serverMux.open({ op: 'echo', i });
        const data = randomBytes(20_000 + i * 97);
        const back = readAll(s);
        for (let off = 0; off < data.length; off += 7_000) await s.write(data.subarray(off, off + 7_000), 1);
        await s.close();
        return (await back).equals(data);
      }),
    );
    assert.equal(results.filter(Boolean).length, 200);
    await new Promise((r) => setImmediate(r));
    assert.equal(serverMux.size + agentMux.size, 0);
  });

  test('reset: the peer sees the reason, reads and writes fail, the id is freed', async () => {
    let agentSide!: MuxStream;
    const { serverMux, agentMux } = pair({}, { onStream: (s) => void (agentSide = s) });
    const s = serverMux.open({ op: 'x' });
    await s.write(Buffer.from('hello'), 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(agentMux.size, 1);
    s.reset('NotFound', "task 'x-0' not found");
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(agentSide.read(), (err: unknown) => err instanceof ApiError && err.reason === 'NotFound' && /x-0/.test(err.message));
    await assert.rejects(agentSide.write(Buffer.from('y')), rejectsWith('NotFound'));
    assert.ok(agentSide.signal.aborted, "the agent's work is cancelled through the stream's signal");
    assert.equal(serverMux.size + agentMux.size, 0);
    // An acceptor's reset of an OPEN it cannot serve reaches the opener.
    const refused = pair().serverMux.open({ op: 'nobody serves' });
    await assert.rejects(refused.read(), rejectsWith('NotImplemented'));
  });

  test('limits: stream count, flow-control violations and oversized or malformed frames', async () => {
    const { serverMux, agentMux } = pair({ maxStreams: 3 }, { maxStreams: 2, onStream: () => undefined });
    const open = [serverMux.open({}), serverMux.open({}), serverMux.open({})];
    assert.throws(() => serverMux.open({}), rejectsWith('TooManyRequests'));
    // The agent serves only 2: the third OPEN is refused with TooManyRequests.
    await assert.rejects(open[2]!.read(), rejectsWith('TooManyRequests'));
    assert.equal(agentMux.size, 2);
    // A peer sending beyond the window has its stream reset (here: a forged DATA frame from the "agent").
    const victim = open[0]!;
    for (let i = 0; i <= DEFAULT_WINDOW_BYTES / MAX_DATA_BYTES; i++) serverMux.receive(encodeData(victim.id, 1, Buffer.alloc(MAX_DATA_BYTES)));
    await assert.rejects(victim.read(), rejectsWith('BadRequest'));
    // An oversized frame ends the whole tunnel: every stream fails.
    agentMux.receive(Buffer.alloc(MAX_FRAME_BYTES + 1, 2));
    assert.ok(agentMux.closed);
    await assert.rejects(open[1]!.read(), rejectsWith('ServiceUnavailable'));
    // An OPEN with an id of the receiver's own parity is a protocol error too.
    const other = pair({}, { onStream: () => undefined });
    other.agentMux.receive(encodeOpen(3, {}));
    assert.ok(other.agentMux.closed);
  });

  test('stream ids wrap around without reusing an id that is still open', () => {
    const { serverMux } = pair({}, { onStream: () => undefined });
    const first = serverMux.open({});
    (serverMux as unknown as { nextId: number }).nextId = 0xffff_fffe;
    const last = serverMux.open({});
    assert.equal(last.id, 0xffff_fffe);
    const wrapped = serverMux.open({});
    assert.equal(first.id, 2);
    assert.equal(wrapped.id, 4, 'id 2 is still open, so the counter skips it');
  });

  test('teardown: when the WebSocket drops, every stream on both ends fails at once', async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    t.after(() => wss.close());
    await once(wss, 'listening');
    const agentStreams: MuxStream[] = [];
    wss.on('connection', (ws) => muxOverWebSocket(ws, { side: 'agent', pingMs: 0, onStream: (s) => void agentStreams.push(s) }));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await once(client, 'open');
    const mux = muxOverWebSocket(client, { side: 'server', pingMs: 0 });
    const streams = Array.from({ length: 5 }, (_, i) => mux.open({ i }));
    await streams[0]!.write(Buffer.from('x'), 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(agentStreams.length, 5);
    const pendingReads = streams.map((s) => s.read());
    // Cut without a close handshake, as a dead link would.
    for (const ws of wss.clients) ws.terminate();
    for (const r of pendingReads) await assert.rejects(r, rejectsWith('ServiceUnavailable'));
    await new Promise((r) => setTimeout(r, 50));
    for (const s of agentStreams) assert.ok(s.signal.aborted, 'agent-side work is cancelled too');
    assert.equal(mux.size, 0);
    assert.throws(() => mux.open({}), rejectsWith('ServiceUnavailable'));
  });

  test('keepalive: a peer that answers nothing ends the tunnel after two ping intervals', async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
    t.after(() => wss.close());
    await once(wss, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    t.after(() => client.terminate());
    await once(client, 'open');
    const mux = muxOverWebSocket(client, { side: 'server', pingMs: 100 });
    const s = mux.open({});
    await assert.rejects(s.read(), (err: unknown) => err instanceof ApiError && /silent/.test(err.message));
  });
});
