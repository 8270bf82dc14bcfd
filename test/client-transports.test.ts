/**
 * The client over both transports against a real `skyshift server` (and a
 * real `skyshift up` for logs): the Node one (node:http) and the browser one
 * (fetch, through src/client/browser.ts). Every case runs once per transport.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from './infra/ports.js';
import { startServer, type TestServer } from './infra/server.js';
import { startSkyShift, type SkyShiftInstance } from './infra/skyshift.js';
import { SkyShiftClient, NodeTransport, ApiError, UnreachableError, Informer, type RestClient, type ApiObject, type WatchEvent } from '../src/client/index.js';
import { SkyShiftClient as BrowserClient, FetchTransport } from '../src/client/browser.js';

type Make = (server: string, options?: { token?: string; idleTimeoutMs?: number }) => RestClient;

const TRANSPORTS: Record<string, Make> = {
  node: (server, o = {}) =>
    new SkyShiftClient({ server, token: o.token, ...(o.idleTimeoutMs ? { transport: new NodeTransport(server, { idleTimeoutMs: o.idleTimeoutMs }) } : {}) }),
  fetch: (server, o = {}) =>
    new BrowserClient({ server, token: o.token, ...(o.idleTimeoutMs ? { transport: new FetchTransport(server, { idleTimeoutMs: o.idleTimeoutMs }) } : {}) }),
};

const job = (name: string, labels: Record<string, string> = {}) => ({ kind: 'Job', metadata: { name, labels }, spec: { run: 'true' } });

async function next<T>(events: AsyncGenerator<WatchEvent<T>>, skip = ['BOOKMARK']): Promise<WatchEvent<T>> {
  for (;;) {
    const { value, done } = await events.next();
    if (done) throw new Error('watch ended');
    if (!skip.includes(value.type)) return value;
  }
}

function rejectsWith(reason: string, code: number) {
  return (err: unknown) => {
    assert.ok(err instanceof ApiError, `ApiError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.code, code);
    return true;
  };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: TestServer;
/** A resourceVersion from before the server restarted: its watch cache no longer holds it. */
let expiredRv: string;

before(async () => {
  const port = await freePort();
  const first = await startServer({ port });
  const client = TRANSPORTS.node!(first.url);
  const old = await client.create('jobs', job('before-restart'));
  await client.patch('jobs', 'before-restart', { spec: { priority: 1 } });
  expiredRv = old.metadata.resourceVersion!;
  await first.stop();
  server = await startServer({ port, dir: first.dir });
});
after(() => server?.stop());

for (const [name, make] of Object.entries(TRANSPORTS)) {
  describe(`client over the ${name} transport`, () => {
    const label = { transport: name };

    test('create, get, update, status, patch and delete; errors are ApiErrors with their reason', async () => {
      const client = make(server.url);
      const created = await client.create('jobs', job(`crud-${name}`, label));
      assert.equal(created.metadata.namespace, 'default');
      const got = await client.get('jobs', `crud-${name}`);
      assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
      const updated = await client.update('jobs', { ...got, spec: { ...(got.spec as object), priority: 5 } } as ApiObject);
      assert.equal((updated.spec as { priority: number }).priority, 5);
      await assert.rejects(client.update('jobs', got), rejectsWith('Conflict', 409), 'a stale resourceVersion conflicts');
      const status = await client.updateStatus('jobs', { ...updated, status: { phase: 'PENDING' } } as ApiObject);
      assert.equal((status.status as { phase: string }).phase, 'PENDING');
      const patched = await client.patch('jobs', `crud-${name}`, { metadata: { labels: { extra: 'yes' } } });
      assert.equal(patched.metadata.labels?.extra, 'yes');
      await client.delete('jobs', `crud-${name}`);
      await assert.rejects(client.get('jobs', `crud-${name}`), rejectsWith('NotFound', 404));
      await assert.rejects(
        client.create('jobs', { kind: 'Job', metadata: { name: 'Not A Name' }, spec: {} }),
        (err: unknown) => err instanceof ApiError && err.code >= 400 && err.code < 500,
      );
      assert.ok((await client.version()).version);
    });

    test('list with limit and continue; listAll follows the pages', async () => {
      const client = make(server.url);
      const selector = `page=${name}`;
      for (let i = 0; i < 5; i++) await client.create('jobs', job(`page-${name}-${i}`, { page: name }));
      const first = await client.list('jobs', { labelSelector: selector, limit: 2 });
      assert.deepEqual(
        first.items.map((j) => j.metadata.name),
        [`page-${name}-0`, `page-${name}-1`],
      );
      assert.ok(first.metadata.continue);
      const second = await client.list('jobs', { labelSelector: selector, limit: 2, continue: first.metadata.continue! });
      assert.deepEqual(
        second.items.map((j) => j.metadata.name),
        [`page-${name}-2`, `page-${name}-3`],
      );
      const all = await client.listAll('jobs', { labelSelector: selector, pageSize: 2 });
      assert.equal(all.items.length, 5);
      assert.equal(all.metadata.continue, undefined);
      await assert.rejects(client.list('jobs', { continue: 'not-a-token' }), (err: unknown) => err instanceof ApiError && err.code === 400);
    });

    test('watch: ADDED then MODIFIED, then a resumed watch replays from its resourceVersion', async () => {
      const client = make(server.url);
      const selector = `watch=${name}`;
      const start = (await client.list('jobs', { labelSelector: selector })).metadata.resourceVersion!;
      const abort = new AbortController();
      const events = client.watch('jobs', { labelSelector: selector, resourceVersion: start, signal: abort.signal });
      const pending = next(events);
      await client.create('jobs', job(`watch-${name}`, { watch: name }));
      const added = await pending;
      assert.equal(added.type, 'ADDED');
      assert.equal(added.object.metadata.name, `watch-${name}`);
      await client.patch('jobs', `watch-${name}`, { spec: { priority: 2 } });
      const modified = await next(events);
      assert.equal(modified.type, 'MODIFIED');
      abort.abort();
      assert.equal((await events.next()).done, true, 'an aborted watch ends quietly');

      const resumed = client.watch('jobs', { labelSelector: selector, resourceVersion: added.object.metadata.resourceVersion! });
      const replayed = await next(resumed);
      assert.equal(replayed.type, 'MODIFIED');
      assert.equal(replayed.object.metadata.resourceVersion, modified.object.metadata.resourceVersion);
      await resumed.return(undefined);
    });

    test('watch from an expired resourceVersion: an ERROR event with a 410 Status; an unknown kind throws before streaming', async () => {
      const client = make(server.url);
      const events = client.watch('jobs', { resourceVersion: expiredRv });
      const first = await next(events);
      assert.equal(first.type, 'ERROR');
      const status = first.object as unknown as { code: number; reason: string };
      assert.equal(status.code, 410);
      assert.equal(status.reason, 'Gone');
      await events.return(undefined);
      await assert.rejects(client.watch('nosuchkinds').next(), rejectsWith('NotFound', 404));
    });

    test('an informer lists, watches and sees deletes', async () => {
      const client = make(server.url);
      const abort = new AbortController();
      const informer = new Informer(client, 'jobs', { namespace: 'default', labelSelector: `informer=${name}` });
      const deleted: string[] = [];
      informer.onDelete((j) => deleted.push(j.metadata.name));
      await client.create('jobs', job(`inf-${name}-a`, { informer: name }));
      const running = informer.run(abort.signal);
      await informer.hasSynced();
      assert.deepEqual(informer.keys(), [`default/inf-${name}-a`]);
      await client.create('jobs', job(`inf-${name}-b`, { informer: name }));
      await until('the second job', () => informer.get(`default/inf-${name}-b`) !== undefined);
      await client.delete('jobs', `inf-${name}-a`);
      await until('the delete', () => deleted.length === 1);
      abort.abort();
      await running;
    });

    test('abort: before the response it rejects with the reason, not UnreachableError', async () => {
      const client = make(server.url);
      const aborted = AbortSignal.abort();
      await assert.rejects(
        client.get('jobs', 'any', { signal: aborted }),
        (err: unknown) => err instanceof Error && err.name === 'AbortError' && !(err instanceof UnreachableError),
      );
      const abort = new AbortController();
      const quiet = client.watch('jobs', { labelSelector: 'nothing=here', signal: abort.signal });
      const waiting = quiet.next();
      setTimeout(() => abort.abort(), 100);
      assert.equal((await waiting).done, true, 'a watch waiting for events ends quietly on abort');
    });

    test('timeouts: a stream with no bytes for idleTimeoutMs fails; a dead port is UnreachableError', async () => {
      const slow = make(server.url, { idleTimeoutMs: 300 });
      const quiet = slow.watch('jobs', { labelSelector: 'nothing=here' });
      await assert.rejects(quiet.next(), /no response from the server for 300 ms/);
      const port = await freePort();
      await assert.rejects(make(`http://127.0.0.1:${port}`).get('jobs', 'a'), (err: unknown) => {
        assert.ok(err instanceof UnreachableError);
        assert.match(err.message, new RegExp(`cannot reach SkyShift API server at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
        return true;
      });
    });
  });
}

describe('logs stream over both transports (skyshift up with a local cluster)', () => {
  let sky: SkyShiftInstance;
  before(async () => {
    sky = await startSkyShift({ args: ['--heartbeat-seconds', '1', '--local-cpus', '2', '--local-memory', '2Gi'] });
  });
  after(() => sky?.cleanup());

  test('follow streams lines as the job writes them, and stops on abort', async () => {
    const admin = sky.client;
    await admin.create('jobs', {
      kind: 'Job',
      metadata: { name: 'ticker' },
      spec: { run: 'i=0; while [ $i -lt 300 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done', resources: { cpus: 1, memory: 64 } },
    });
    const deadline = Date.now() + 30_000;
    // ACTIVE means placed; follow needs the replica itself running (a not-yet-started one has no log to follow).
    const running = async () => {
      const status = (await admin.get('jobs', 'ticker')).status as { taskStatus?: Record<string, Record<string, string>> };
      return Object.values(status.taskStatus ?? {}).some((tasks) => Object.values(tasks).includes('RUNNING'));
    };
    while (!(await running())) {
      if (Date.now() > deadline) throw new Error(`ticker never ran; log:\n${sky.logTail(20)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const [name, make] of Object.entries(TRANSPORTS)) {
      const client = make(sky.url, { token: sky.token });
      const abort = new AbortController();
      const lines: string[] = [];
      for await (const chunk of client.logs('default', 'ticker', { follow: true, signal: abort.signal })) {
        lines.push(chunk);
        if (lines.length === 5) abort.abort();
      }
      assert.equal(lines.length, 5, `${name}: the stream ended with the abort`);
      assert.ok(
        lines.every((l) => /^tick \d+\n$/.test(l)),
        `${name}: ${JSON.stringify(lines)}`,
      );
      await assert.rejects(client.logs('default', 'no-such-job').next(), rejectsWith('NotFound', 404));
    }
    await admin.delete('jobs', 'ticker');
  });
});
