/**
 * One behavioural suite for every Store backend. A backend is conformant when
 * all of these pass against the real thing (memory, a SQLite file, a real etcd).
 * It lives under test/ so that dist/ carries no test code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { LabelSelector } from '../../src/api/index.js';
import { StoreError, type JsonObject, type Store, type StoreEvent } from '../../src/store/index.js';

export interface ConformanceSubject {
  store: Store;
  /** Reopen the same data (SQLite file reopened, etcd process restarted); the old store is closed by it. */
  restart?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

const WATCH_TIMEOUT_MS = 30_000;

export function storeConformance(name: string, open: () => Promise<ConformanceSubject>): void {
  /** Each test works under its own root, so backends may share one server. */
  const withStore = (title: string, body: (s: ConformanceSubject, root: string, t: TestContext) => Promise<void>) =>
    test(`${name}: ${title}`, async (t) => {
      const subject = await open();
      const root = `/t-${randomBytes(4).toString('hex')}/registry`;
      try {
        await body(subject, root, t);
      } finally {
        await subject.cleanup();
      }
    });

  withStore('create, get, update, delete', async ({ store }, root) => {
    const key = `${root}/jobs/default/hello`;
    assert.equal(await store.get(key), undefined);
    const created = await store.create(key, obj('hello', { run: 'echo 1' }));
    assert.equal(created.key, key);
    assert.equal(created.createRevision, created.modRevision);
    assert.deepEqual(created.value, obj('hello', { run: 'echo 1' }));
    assert.ok(created.modRevision <= (await store.currentRevision()));

    const got = await store.get(key);
    assert.deepEqual(got, created);

    const updated = await store.update(key, obj('hello', { run: 'echo 2' }));
    assert.ok(updated.modRevision > created.modRevision);
    assert.equal(updated.createRevision, created.createRevision);
    assert.deepEqual((await store.get(key))?.value, obj('hello', { run: 'echo 2' }));

    const deleted = await store.delete(key);
    assert.deepEqual(deleted.value, obj('hello', { run: 'echo 2' }));
    assert.equal(deleted.modRevision, updated.modRevision, 'delete returns the last stored state');
    assert.equal(await store.get(key), undefined);
    assert.ok((await store.currentRevision()) > updated.modRevision, 'a delete takes a revision');

    await assertCode(store.update(key, obj('hello')), 'NotFound');
    await assertCode(store.delete(key), 'NotFound');
    await assertCode(store.update(key, obj('hello'), updated.modRevision), 'NotFound');

    const again = await store.create(key, obj('hello'));
    assert.ok(again.createRevision > deleted.modRevision, 'a re-created key has a new create revision');
  });

  withStore('create of an existing key is AlreadyExists and changes nothing', async ({ store }, root) => {
    const key = `${root}/namespaces/default`;
    const first = await store.create(key, obj('default', { v: 1 }));
    await assertCode(store.create(key, obj('default', { v: 2 })), 'AlreadyExists');
    assert.deepEqual(await store.get(key), first);
    assert.equal(await store.currentRevision(), first.modRevision);
  });

  withStore('compare-and-swap: one of 20 concurrent updates wins', async ({ store }, root) => {
    const key = `${root}/jobs/default/cas`;
    const base = await store.create(key, obj('cas', { writer: -1 }));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.update(key, obj('cas', { writer: i }), base.modRevision)));
    const winners = results.filter((r) => r.status === 'fulfilled');
    assert.equal(winners.length, 1, 'exactly one writer wins');
    for (const r of results) if (r.status === 'rejected') assertStoreError(r.reason, 'Conflict');
    const winner = winners[0];
    assert.ok(winner?.status === 'fulfilled');
    assert.deepEqual(await store.get(key), winner.value);

    // A stale revision after the fact is a Conflict too, for update and delete.
    await assertCode(store.update(key, obj('cas'), base.modRevision), 'Conflict');
    await assertCode(store.delete(key, base.modRevision), 'Conflict');
    assert.ok(await store.get(key));
  });

  withStore('compare-and-swap: one of 20 concurrent deletes wins', async ({ store }, root) => {
    const key = `${root}/jobs/default/cas-del`;
    const base = await store.create(key, obj('cas-del'));
    await store.update(key, obj('cas-del', { v: 2 }));
    const current = await store.get(key);
    assert.ok(current);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store.delete(key, current.modRevision) : store.delete(key, base.modRevision))),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    assert.equal(winners.length, 1, 'exactly one deleter wins');
    // Losers holding the stale revision conflict; the others find the key gone.
    for (const r of results) if (r.status === 'rejected') assertStoreError(r.reason, 'Conflict', 'NotFound');
    assert.equal(await store.get(key), undefined);
  });

  withStore('list: prefix isolation, sorted, revision', async ({ store }, root) => {
    const keys = [
      `${root}/jobs/default/b`,
      `${root}/jobs/default-2/a`,
      `${root}/jobs/default/a`,
      `${root}/jobs/defaultx/a`,
      `${root}/jobsx/default/a`,
      `${root}/jobs/default/c`,
    ];
    let last = 0;
    for (const key of keys) last = (await store.create(key, obj(key))).modRevision;
    const listed = await store.list(`${root}/jobs/default/`);
    assert.deepEqual(
      listed.items.map((kv) => kv.key),
      [`${root}/jobs/default/a`, `${root}/jobs/default/b`, `${root}/jobs/default/c`],
    );
    assert.equal(listed.more, undefined);
    assert.ok(listed.revision >= last, 'a list sees preceding writes');
    assert.deepEqual(listed.items[0]?.value, obj(`${root}/jobs/default/a`));
    assert.deepEqual(
      (await store.list(`${root}/jobs/default-2/`)).items.map((kv) => kv.key),
      [`${root}/jobs/default-2/a`],
    );
    assert.equal((await store.list(`${root}/jobs/`)).items.length, 5);
    assert.equal((await store.list(`${root}/nothing/`)).items.length, 0);
  });

  withStore('list: label selectors', async ({ store }, root) => {
    const prefix = `${root}/jobs/default/`;
    await store.create(`${prefix}a`, obj('a', {}, { app: 'web', tier: 'front' }));
    await store.create(`${prefix}b`, obj('b', {}, { app: 'web', tier: 'back' }));
    await store.create(`${prefix}c`, obj('c', {}, { app: 'db' }));
    await store.create(`${prefix}d`, obj('d'));
    const names = async (selector: LabelSelector, limit?: number) =>
      (await store.list(prefix, limit === undefined ? { selector } : { selector, limit })).items.map((kv) => kv.key.slice(prefix.length));
    assert.deepEqual(await names([]), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await names([{ key: 'app', operator: 'Equals', values: ['web'] }]), ['a', 'b']);
    assert.deepEqual(await names([{ key: 'app', operator: 'NotEquals', values: ['web'] }]), ['c', 'd']);
    assert.deepEqual(await names([{ key: 'tier', operator: 'In', values: ['back', 'mid'] }]), ['b']);
    assert.deepEqual(await names([{ key: 'tier', operator: 'NotIn', values: ['back'] }]), ['a', 'c', 'd']);
    assert.deepEqual(await names([{ key: 'tier', operator: 'Exists', values: [] }]), ['a', 'b']);
    assert.deepEqual(await names([{ key: 'app', operator: 'DoesNotExist', values: [] }]), ['d']);
    assert.deepEqual(
      await names([
        { key: 'app', operator: 'Equals', values: ['web'] },
        { key: 'tier', operator: 'NotEquals', values: ['front'] },
      ]),
      ['b'],
    );
    const limited = await store.list(prefix, { selector: [{ key: 'app', operator: 'Exists', values: [] }], limit: 2 });
    assert.deepEqual(
      limited.items.map((kv) => kv.key.slice(prefix.length)),
      ['a', 'b'],
    );
    assert.equal(limited.more, `${prefix}b`);
  });

  withStore('list: pagination covers every key exactly once', async ({ store }, root) => {
    const prefix = `${root}/jobs/default/`;
    const expected: string[] = [];
    for (let i = 0; i < 23; i++) {
      const key = `${prefix}job-${String(i).padStart(2, '0')}`;
      expected.push(key);
      await store.create(key, obj(`job-${i}`));
    }
    await store.create(`${root}/jobs/default-2/job-00`, obj('other'));
    const seen: string[] = [];
    let startAfter: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.list(prefix, startAfter === undefined ? { limit: 5 } : { limit: 5, startAfter });
      pages++;
      assert.ok(page.items.length <= 5);
      seen.push(...page.items.map((kv) => kv.key));
      if (page.more === undefined) break;
      assert.equal(page.more, page.items[page.items.length - 1]?.key);
      startAfter = page.more;
      assert.ok(pages < 10, 'pagination terminates');
    }
    assert.deepEqual(seen, expected);
    assert.equal(pages, 5);
    const exact = await store.list(prefix, { limit: 23 });
    assert.equal(exact.items.length, 23);
    assert.equal(exact.more, undefined, 'no continuation when the limit was not hit');
  });

  withStore('watch: 500 concurrent writes, live and from an old revision, in order, none missing', async ({ store }, root) => {
    const prefix = `${root}/jobs/default/`;
    // Noise outside the prefix must not appear.
    await store.create(`${root}/jobs/default-2/noise`, obj('noise'));
    const start = await store.currentRevision();
    const live = collect(store, prefix, start);
    await live.ready;

    const written: Array<{ revision: number; type: 'put' | 'delete'; key: string; value: JsonObject }> = [];
    const keyCount = 25;
    const writer = async (w: number) => {
      for (let i = 0; i < 500 / keyCount; i++) {
        const key = `${prefix}k${w}`;
        const value = obj(`k${w}`, { step: i });
        if (i === 0) {
          written.push({ revision: (await store.create(key, value)).modRevision, type: 'put', key, value });
        } else if (i % 7 === 6) {
          const gone = await store.delete(key);
          written.push({ revision: gone.modRevision, type: 'delete', key, value: gone.value });
          written.push({ revision: (await store.create(key, value)).modRevision, type: 'put', key, value });
          i++;
        } else {
          written.push({ revision: (await store.update(key, value)).modRevision, type: 'put', key, value });
        }
        if (w === 0 && i === 5) await store.create(`${root}/jobs/default-2/noise-${i}`, obj('noise'));
      }
    };
    const writers = Array.from({ length: keyCount }, (_, w) => writer(w));
    // The second watcher joins mid-stream from the old revision: replay must hand over to live without a seam.
    await new Promise((r) => setTimeout(r, 5));
    const old = collect(store, prefix, start);
    await Promise.all(writers);
    assert.equal(written.length, 500);

    const last = await store.currentRevision();
    const [liveEvents, oldEvents] = await Promise.all([live.until(last), old.until(last)]);
    const revisions = liveEvents.map((e) => e.revision);
    assert.equal(liveEvents.length, 500, 'every write seen exactly once by the live watcher');
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => a - b),
      'in revision order',
    );
    assert.equal(new Set(revisions).size, 500, 'no duplicates');
    assert.deepEqual(oldEvents, liveEvents, 'the late watcher from the old revision sees the same sequence');

    const puts = written.filter((w) => w.type === 'put').sort((a, b) => a.revision - b.revision);
    const putEvents = liveEvents.filter((e) => e.type === 'put');
    assert.deepEqual(
      putEvents.map((e) => [e.revision, e.key, e.value]),
      puts.map((w) => [w.revision, w.key, w.value]),
    );
    const deleteEvents = liveEvents.filter((e) => e.type === 'delete');
    assert.equal(deleteEvents.length, written.filter((w) => w.type === 'delete').length);
    for (const e of deleteEvents) {
      assert.ok(e.prevValue, 'delete carries the previous value');
      assert.deepEqual(e.value, e.prevValue);
    }
    for (const e of putEvents) {
      const isCreate = e.createRevision === e.revision;
      assert.equal(e.prevValue === undefined, isCreate, 'prevValue only on update');
    }
  });

  withStore('watch: compacted history is Expired; watch from the compact point works', async ({ store }, root) => {
    const prefix = `${root}/jobs/default/`;
    const first = await store.create(`${prefix}a`, obj('a', { v: 0 }));
    for (let i = 1; i <= 5; i++) await store.update(`${prefix}a`, obj('a', { v: i }));
    const compactAt = await store.currentRevision();
    await store.update(`${prefix}a`, obj('a', { v: 6 }));
    await store.compact(compactAt);

    await assert.rejects(
      async () => {
        const ac = new AbortController();
        for await (const _ of store.watch(prefix, first.modRevision, ac.signal)) break;
      },
      (err: unknown) => err instanceof StoreError && err.code === 'Expired',
    );
    const events = await collect(store, prefix, compactAt).until(compactAt + 1);
    assert.deepEqual(
      events.map((e) => e.value),
      [obj('a', { v: 6 })],
    );
    assert.deepEqual((await store.get(`${prefix}a`))?.value, obj('a', { v: 6 }), 'compaction keeps current state');
  });

  withStore('persistence across restart: data and revision continue', async (subject, root, t) => {
    if (subject.restart === undefined) {
      t.skip('backend keeps nothing across restart');
      return;
    }
    const prefix = `${root}/jobs/default/`;
    const a = await subject.store.create(`${prefix}a`, obj('a', { v: 1 }));
    const b = await subject.store.create(`${prefix}b`, obj('b'));
    await subject.store.delete(`${prefix}b`);
    const before = await subject.store.currentRevision();
    const store = await subject.restart();
    subject.store = store;
    assert.deepEqual(await store.get(`${prefix}a`), a);
    assert.equal(await store.get(`${prefix}b`), undefined);
    assert.equal(await store.currentRevision(), before);
    const c = await store.create(`${prefix}c`, obj('c'));
    assert.equal(c.modRevision, before + 1, 'the revision counter continues');
    const replay = await collect(store, prefix, a.modRevision).until(c.modRevision);
    assert.deepEqual(
      replay.map((e) => [e.type, e.key, e.revision]),
      [
        ['put', `${prefix}b`, b.modRevision],
        ['delete', `${prefix}b`, before],
        ['put', `${prefix}c`, c.modRevision],
      ],
    );
  });
}

function obj(name: string, spec: JsonObject = {}, labels?: Record<string, string>): JsonObject {
  return { kind: 'Test', metadata: labels ? { name, labels } : { name }, spec };
}

async function assertCode(p: Promise<unknown>, ...codes: StoreError['code'][]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assertStoreError(err, ...codes);
    return true;
  });
}

function assertStoreError(err: unknown, ...codes: StoreError['code'][]): void {
  assert.ok(err instanceof StoreError, `expected StoreError, got ${String(err)}`);
  assert.ok(codes.includes(err.code), `expected ${codes.join('|')}, got ${err.code}: ${err.message}`);
}

/** Start a watcher now; `until(rev)` resolves with every event up to `rev`, failing after a timeout. */
function collect(store: Store, prefix: string, after: number) {
  const ac = new AbortController();
  const events: StoreEvent[] = [];
  let target = Infinity;
  let notify: (() => void) | undefined;
  const iterator = store.watch(prefix, after, ac.signal)[Symbol.asyncIterator]();
  // Pull the first event eagerly so the watch is registered before the caller writes.
  let pending: Promise<IteratorResult<StoreEvent>> = iterator.next();
  const ready = new Promise<void>((r) => setImmediate(r)).then(() => new Promise<void>((r) => setTimeout(r, 50)));
  const done = (async () => {
    for (;;) {
      const next = await pending;
      if (next.done) return;
      events.push(next.value);
      if (next.value.revision >= target) {
        ac.abort();
        await iterator.return?.();
        return;
      }
      pending = iterator.next();
      notify?.();
    }
  })();
  return {
    ready,
    async until(revision: number): Promise<StoreEvent[]> {
      target = revision;
      if ((events[events.length - 1]?.revision ?? after) >= revision) {
        ac.abort();
        void iterator.return?.();
        return events.filter((e) => e.revision <= revision);
      }
      const timer = setTimeout(() => ac.abort(), WATCH_TIMEOUT_MS);
      try {
        await done;
      } finally {
        clearTimeout(timer);
      }
      assert.ok((events[events.length - 1]?.revision ?? after) >= revision, `watch reached revision ${revision} (got ${events.length} events)`);
      return events.filter((e) => e.revision <= revision);
    },
  };
}
