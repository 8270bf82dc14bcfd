/**
 * Informer against a test double of OUR API server (node:http on 127.0.0.1:0):
 * it serves a scripted list and scripted watch streams so we can force 410s,
 * bookmarks and failures deterministically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { SkyShiftClient } from './index.js';
import { Informer } from './informer.js';
import type { ApiObject } from '../api/index.js';

const job = (name: string, rv: string): ApiObject => ({
  kind: 'Job',
  metadata: { name, namespace: 'default', resourceVersion: rv },
  spec: {},
  status: {},
});

type WatchScript = (res: ServerResponse, rv: string | null) => void;

class TestDoubleOfSkyShiftServer {
  readonly requests: string[] = [];
  /** `pageRvs`: resourceVersion of each page when served in `limit` pages (else `rv`). */
  lists: { items: ApiObject[]; rv: string; pageRvs?: string[] }[] = [];
  private paging: { items: ApiObject[]; rv: string; pageRvs?: string[] } | undefined;
  watches: WatchScript[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(url.pathname + url.search);
    if (url.searchParams.get('watch') === 'true') {
      const script = this.watches.shift();
      if (!script) {
        // Nothing scripted: hold the stream open until the test stops.
        res.writeHead(200, { 'content-type': 'application/json' });
        this.open.add(res);
        return;
      }
      this.open.add(res);
      script(res, url.searchParams.get('resourceVersion'));
      return;
    }
    // A continue token (here: the offset) reads on in the list being paged.
    const token = url.searchParams.get('continue');
    const list = token ? this.paging : this.lists.shift();
    if (!list) return void res.writeHead(500).end('{"kind":"Status","code":500,"reason":"InternalError","message":"no list"}');
    this.paging = list;
    const offset = Number(token ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 0) || Infinity;
    const items = list.items.slice(offset, offset + limit);
    const more = offset + items.length < list.items.length;
    const page = Number.isFinite(limit) ? Math.floor(offset / limit) : 0;
    const metadata = { resourceVersion: list.pageRvs?.[page] ?? list.rv, ...(more && { continue: String(offset + items.length) }) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'JobList', metadata, items }));
  }
}

const stream =
  (...events: unknown[]): WatchScript =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Split lines across writes so the client must reassemble them.
    const text = events.map((e) => JSON.stringify(e) + '\n').join('');
    const mid = Math.floor(text.length / 2);
    res.write(text.slice(0, mid));
    setTimeout(() => res.end(text.slice(mid)), 5);
  };

const httpStatus =
  (code: number, reason: string): WatchScript =>
  (res) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message: `forced ${code}` }));
  };

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function record(informer: Informer) {
  const log: string[] = [];
  informer.onAdd((o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
  informer.onUpdate((a, b) => log.push(`update ${b.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`));
  informer.onDelete((o) => log.push(`delete ${o.metadata.name}`));
  return log;
}

test('informer lists, watches, resumes from the last resourceVersion including bookmarks', async (t) => {
  const server = await new TestDoubleOfSkyShiftServer().start();
  t.after(() => server.stop());
  server.lists.push({ items: [job('a', '3'), job('b', '5')], rv: '5' });
  server.watches.push(
    stream({ type: 'MODIFIED', object: job('a', '6') }, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '8' } } }),
    stream({ type: 'DELETED', object: job('b', '9') }, { type: 'ADDED', object: job('c', '10') }),
  );
  const ac = new AbortController();
  const informer = new Informer(new SkyShiftClient({ server: server.url }), 'jobs', { namespace: 'default', sleep: async () => {} });
  const log = record(informer);
  const done = informer.run(ac.signal);
  await informer.hasSynced();
  await until(() => informer.lastResourceVersion === '10', 'rv 10');
  ac.abort();
  await done;
  assert.deepEqual(log, ['add a@3', 'add b@5', 'update a@3->6', 'delete b', 'add c@10']);
  assert.deepEqual(informer.keys().sort(), ['default/a', 'default/c']);
  const watches = server.requests.filter((r) => r.includes('watch=true'));
  assert.match(watches[0] ?? '', /^\/default\/jobs\?watch=true&resourceVersion=5$/);
  assert.match(watches[1] ?? '', /resourceVersion=8$/, 'second watch resumes from the bookmark');
  assert.equal(server.requests.filter((r) => !r.includes('watch')).length, 1, 'no relist without a 410');
});

test('informer relists in pages, watches from the first page and never steps an object back', async (t) => {
  const server = await new TestDoubleOfSkyShiftServer().start();
  t.after(() => server.stop());
  // e was modified (6, then 7) while pages 2 and 3 were being read.
  server.lists.push({ items: [job('a', '1'), job('b', '2'), job('c', '3'), job('d', '4'), job('e', '7')], rv: '5', pageRvs: ['5', '6', '7'] });
  server.watches.push(
    stream({ type: 'MODIFIED', object: job('e', '6') }, { type: 'MODIFIED', object: job('e', '7') }, { type: 'MODIFIED', object: job('e', '8') }),
  );
  const ac = new AbortController();
  const informer = new Informer(new SkyShiftClient({ server: server.url }), 'jobs', { namespace: 'default', pageSize: 2, sleep: async () => {} });
  const log = record(informer);
  const done = informer.run(ac.signal);
  await until(() => informer.lastResourceVersion === '8', 'rv 8');
  ac.abort();
  await done;
  const lists = server.requests.filter((r) => !r.includes('watch'));
  assert.deepEqual(lists, ['/default/jobs?limit=2', '/default/jobs?limit=2&continue=2', '/default/jobs?limit=2&continue=4']);
  assert.match(server.requests.find((r) => r.includes('watch')) ?? '', /resourceVersion=5$/, 'watch resumes from the first page');
  assert.deepEqual(log, ['add a@1', 'add b@2', 'add c@3', 'add d@4', 'add e@7', 'update e@7->8']);
  assert.equal(informer.get('default/e')?.metadata.resourceVersion, '8');
});

for (const variant of ['in-stream ERROR', 'HTTP 410'] as const) {
  test(`informer relists on 410 (${variant}) and synthesises deletes for vanished objects`, async (t) => {
    const server = await new TestDoubleOfSkyShiftServer().start();
    t.after(() => server.stop());
    server.lists.push({ items: [job('a', '3'), job('b', '5')], rv: '5' });
    server.lists.push({ items: [job('a', '12')], rv: '20' });
    server.watches.push(
      variant === 'HTTP 410'
        ? httpStatus(410, 'Gone')
        : stream({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } }),
    );
    const ac = new AbortController();
    const informer = new Informer(new SkyShiftClient({ server: server.url }), 'jobs', { sleep: async () => {} });
    const log = record(informer);
    const done = informer.run(ac.signal);
    await until(() => informer.lastResourceVersion === '20', 'relist to rv 20');
    await until(() => server.requests.filter((r) => r.includes('watch')).length === 2, 'second watch');
    ac.abort();
    await done;
    assert.deepEqual(log, ['add a@3', 'add b@5', 'delete b', 'update a@3->12']);
    assert.deepEqual(informer.keys(), ['default/a']);
    const watches = server.requests.filter((r) => r.includes('watch'));
    assert.match(watches[1] ?? '', /^\/jobs\?watch=true&resourceVersion=20$/, 'all-namespace watch from the new list');
  });
}

test('informer reconnects with capped exponential backoff and resets it after success', async (t) => {
  const server = await new TestDoubleOfSkyShiftServer().start();
  t.after(() => server.stop());
  server.lists.push({ items: [], rv: '1' });
  server.watches.push(
    httpStatus(500, 'InternalError'),
    httpStatus(500, 'InternalError'),
    httpStatus(503, 'ServiceUnavailable'),
    httpStatus(500, 'InternalError'),
    stream({ type: 'ADDED', object: job('x', '2') }),
    httpStatus(500, 'InternalError'),
  );
  const delays: number[] = [];
  const ac = new AbortController();
  const informer = new Informer(new SkyShiftClient({ server: server.url }), 'jobs', {
    namespace: 'default',
    backoff: { baseMs: 100, maxMs: 300, jitter: 0 },
    sleep: async (ms) => void delays.push(ms),
  });
  const done = informer.run(ac.signal);
  await until(() => delays.length >= 5, 'five backoff sleeps');
  ac.abort();
  await done;
  assert.deepEqual(delays.slice(0, 5), [100, 200, 300, 300, 100]);
  assert.ok(informer.get('default/x'));
});

test('informer backs off when the server is unreachable and stops on abort', async () => {
  const delays: number[] = [];
  const ac = new AbortController();
  const errors: unknown[] = [];
  const informer = new Informer(new SkyShiftClient({ server: 'http://127.0.0.1:9' }), 'jobs', {
    backoff: { baseMs: 10, maxMs: 40, jitter: 0 },
    sleep: async (ms) => {
      delays.push(ms);
      if (delays.length === 4) ac.abort();
    },
    onError: (e) => errors.push(e),
  });
  await informer.run(ac.signal);
  assert.deepEqual(delays, [10, 20, 40, 40]);
  assert.match(String((errors[0] as Error).message), /cannot reach SkyShift API server at http:\/\/127\.0\.0\.1:9/);
  assert.equal(informer.isSynced, false);
});
