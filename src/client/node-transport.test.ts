/**
 * The client's transport against small node:http / node:https servers that count
 * connections: keep-alive reuse, the pool cap, streams closing their socket on
 * abort, connection errors as UnreachableError, and HTTPS with a private CA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkyShiftClient, UnreachableError } from './index.js';
import { ApiError } from '../api/index.js';
import { selfSignedCert } from '../../test/infra/tls.js';

const job = { kind: 'Job', metadata: { name: 'a', namespace: 'default', resourceVersion: '1' }, spec: {}, status: {} };

/** Serves `job` for GET/PUT, 410 for watch=gone, and an open NDJSON stream for other watches. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.searchParams.get('watch') === 'true') {
    if (url.searchParams.get('resourceVersion') === 'gone') {
      res
        .writeHead(410, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', reason: 'Expired', message: 'too old resource version', code: 410 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(JSON.stringify({ type: 'ADDED', object: job }) + '\n');
    return; // held open: only the client can end it
  }
  if (url.pathname === '/default/jobs/missing') {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'jobs "missing" not found', code: 404 }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : job;
    // A little latency so concurrent calls overlap.
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)), 5);
  });
}

interface Counted {
  server: Server;
  url: string;
  sockets: Set<Socket>;
  connections: () => number;
  stop(): Promise<void>;
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<Counted> {
  const sockets = new Set<Socket>();
  let total = 0;
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    total++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    connections: () => total,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Runs `fn` against a counting HTTP server serving `handler`, stopped afterwards. */
async function serving(fn: (s: Counted) => Promise<void>): Promise<void> {
  const s = await listen(createServer(handler), 'http');
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

async function until(what: string, check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('sequential calls reuse one keep-alive connection', () =>
  serving(async (s) => {
    const client = new SkyShiftClient({ server: s.url });
    for (let i = 0; i < 5; i++) assert.equal((await client.get('jobs', 'a')).metadata.name, 'a');
    await client.updateStatus('jobs', { ...job, status: { phase: 'RUNNING' } } as never);
    assert.equal(s.connections(), 1);
  }));

test('concurrent calls are capped at maxSockets connections and all complete', () =>
  serving(async (s) => {
    const client = new SkyShiftClient({ server: s.url, maxSockets: 3 });
    const all = await Promise.all(Array.from({ length: 20 }, () => client.get('jobs', 'a')));
    assert.equal(all.length, 20);
    assert.equal(s.connections(), 3);
  }));

test('an HTTP error status is an ApiError carrying the server message, for calls and for watches', () =>
  serving(async (s) => {
    const client = new SkyShiftClient({ server: s.url });
    await assert.rejects(client.get('jobs', 'missing'), (err: unknown) => err instanceof ApiError && err.code === 404 && /not found/.test(err.message));
    const watch = client.watch('jobs', { resourceVersion: 'gone' });
    await assert.rejects(watch.next(), (err: unknown) => err instanceof ApiError && err.code === 410);
    await until('the failed watch connection to close', () => s.sockets.size <= 1);
  }));

test('aborting a streaming watch closes its socket; a watch does not hold a pooled connection', () =>
  serving(async (s) => {
    const client = new SkyShiftClient({ server: s.url, maxSockets: 1 });
    const abort = new AbortController();
    const events: string[] = [];
    const done = (async () => {
      for await (const event of client.watch('jobs', { signal: abort.signal })) events.push(event.type);
    })();
    await until('the first event', () => events.length === 1);
    // With maxSockets 1 this would queue forever if the watch sat in the JSON pool.
    assert.equal((await client.get('jobs', 'a')).metadata.name, 'a');
    assert.equal(s.sockets.size, 2);
    abort.abort();
    await done; // an aborted watch ends quietly
    await until('the watch socket to close', () => s.sockets.size === 1);
    assert.deepEqual(events, ['ADDED']);
  }));

test('leaving a watch loop early (no abort) also closes its socket', () =>
  serving(async (s) => {
    const client = new SkyShiftClient({ server: s.url });
    for await (const event of client.watch('jobs')) {
      assert.equal(event.type, 'ADDED');
      break;
    }
    await until('the watch socket to close', () => s.sockets.size === 0);
  }));

test('an abort before the response rejects with the abort reason, not UnreachableError', async () => {
  const server = createServer(() => {}); // never answers
  const s = await listen(server, 'http');
  try {
    const client = new SkyShiftClient({ server: s.url });
    const abort = new AbortController();
    const pending = client.get('jobs', 'a', { signal: abort.signal });
    await until('the request to arrive', () => s.sockets.size === 1);
    abort.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof Error && err.name === 'AbortError' && !(err instanceof UnreachableError));
    await until('the aborted socket to close', () => s.sockets.size === 0);
  } finally {
    await s.stop();
  }
});

test('connection refused is an UnreachableError naming the server', async () => {
  // Bind, read the port, close: nothing listens there now.
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  await once(probe, 'close');
  const client = new SkyShiftClient({ server: `http://127.0.0.1:${port}` });
  for (const call of [() => client.get('jobs', 'a'), () => client.watch('jobs').next()]) {
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof UnreachableError);
      assert.equal(err.reason, 'ServiceUnavailable');
      assert.match(err.message, new RegExp(`cannot reach SkyShift API server at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
      return true;
    });
  }
});

test('HTTPS: a CA file is trusted, an unknown CA is unreachable, insecure skips verification', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-transport-tls-'));
  const { key, cert } = selfSignedCert(dir);
  const s = await listen(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler), 'https');
  try {
    const trusted = new SkyShiftClient({ server: s.url, tls: { ca: readFileSync(cert) } });
    for (let i = 0; i < 3; i++) assert.equal((await trusted.get('jobs', 'a')).metadata.name, 'a');
    assert.equal(s.connections(), 1, 'TLS connections are kept alive too');
    const events: string[] = [];
    const abort = new AbortController();
    for await (const event of trusted.watch('jobs', { signal: abort.signal })) {
      events.push(event.type);
      abort.abort();
    }
    assert.deepEqual(events, ['ADDED']);
    await assert.rejects(
      new SkyShiftClient({ server: s.url }).get('jobs', 'a'),
      (err: unknown) => err instanceof UnreachableError && /cannot reach/.test(err.message),
    );
    const insecure = new SkyShiftClient({ server: s.url, tls: { insecureSkipTlsVerify: true } });
    assert.equal((await insecure.get('jobs', 'a')).metadata.name, 'a');
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
