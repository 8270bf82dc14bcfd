import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { storeConformance } from '../../test/support/store-conformance.js';
import { MemoryStore } from './memory/index.js';
import { SqliteStore } from './sqlite/index.js';
import { openStore, StoreError } from './index.js';

storeConformance('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

storeConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-store-'));
  const path = join(dir, 'state.db');
  const subject = {
    store: new SqliteStore(path) as SqliteStore,
    restart: async () => {
      await subject.store.close();
      subject.store = new SqliteStore(path);
      return subject.store;
    },
    cleanup: async () => {
      await subject.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return subject;
});

for (const [name, make] of [
  ['memory', () => new MemoryStore({ historyLimit: 10 })],
  ['sqlite', () => new SqliteStore(':memory:', { historyLimit: 10 })],
] as const) {
  test(`${name}: the history window compacts old events`, async () => {
    const store = make();
    try {
      for (let i = 0; i < 40; i++) await store.create(`/registry/jobs/default/j${i}`, { i });
      const head = await store.currentRevision();
      assert.equal(head, 40);
      await assert.rejects(
        async () => {
          for await (const _ of store.watch('/registry/', 5, new AbortController().signal)) break;
        },
        (err: unknown) => err instanceof StoreError && err.code === 'Expired',
      );
      // The last `historyLimit` events are always kept.
      const ac = new AbortController();
      const seen: number[] = [];
      for await (const e of store.watch('/registry/', head - 10, ac.signal)) {
        seen.push(e.revision);
        if (e.revision === head) ac.abort();
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 10 }, (_, i) => head - 9 + i),
      );
    } finally {
      await store.close();
    }
  });
}

for (const [name, make] of [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(':memory:')],
] as const) {
  test(`${name}: a replay spanning many pages hands over to live events with no gap or duplicate`, async () => {
    const store = make();
    try {
      for (let i = 0; i < 2500; i++) await store.create(`/registry/jobs/default/j${i}`, { i });
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 20_000);
      const seen: number[] = [];
      let extra = 0;
      for await (const e of store.watch('/registry/jobs/', 0, ac.signal)) {
        seen.push(e.revision);
        // Writes while the replay is still paging land in the live buffer too.
        if (seen.length % 60 === 0 && extra < 40) {
          extra++;
          await store.update(`/registry/jobs/default/j${extra}`, { extra });
        }
        if (e.revision === 2540) break;
      }
      clearTimeout(timer);
      assert.deepEqual(
        seen,
        Array.from({ length: 2540 }, (_, i) => i + 1),
      );
    } finally {
      await store.close();
    }
  });
}

test('openStore parses store URLs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-open-'));
  try {
    const sqlite = await openStore(`sqlite:${join(dir, 'nested', 'deeper', 'state.db')}`);
    assert.equal(sqlite.backend, 'sqlite');
    await sqlite.create('/registry/namespaces/default', { kind: 'Namespace' });
    await sqlite.close();
    const reopened = await openStore(`sqlite:${join(dir, 'nested', 'deeper', 'state.db')}`);
    assert.equal(await reopened.currentRevision(), 1);
    await reopened.close();

    const memory = await openStore('memory:');
    assert.equal(memory.backend, 'memory');
    await memory.close();

    await assert.rejects(openStore('postgres://x'), /unsupported store URL 'postgres:\/\/x'/);
    await assert.rejects(openStore('sqlite:'), /sqlite:PATH/);
    await assert.rejects(openStore('etcd://'), /etcd:\/\/host:port/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the revision survives a reopen even when compaction removed every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-store-'));
  const path = join(dir, 'state.db');
  try {
    const first = new SqliteStore(path);
    await first.create('/registry/namespaces/a', { n: 1 });
    await first.delete('/registry/namespaces/a');
    await first.compact(await first.currentRevision());
    await first.close();
    const second = new SqliteStore(path);
    assert.equal(await second.currentRevision(), 2);
    assert.equal((await second.create('/registry/namespaces/b', { n: 2 })).modRevision, 3);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: writes of one turn commit together, yet each succeeds or fails on its own, in arrival order', async () => {
  const store = new SqliteStore(':memory:');
  try {
    await store.create('/registry/jobs/default/taken', { v: 0 });
    const base = await store.create('/registry/jobs/default/cas', { v: 0 });
    const ac = new AbortController();
    const events: string[] = [];
    const watching = (async () => {
      for await (const e of store.watch('/registry/', base.modRevision, ac.signal)) {
        events.push(`${e.revision} ${e.type} ${e.key.split('/').pop()}`);
        if (events.length === 5) ac.abort();
      }
    })();
    // All issued in one turn: one batch transaction.
    const results = await Promise.allSettled([
      store.create('/registry/jobs/default/a', { v: 1 }),
      store.create('/registry/jobs/default/taken', { v: 1 }), // AlreadyExists
      store.update('/registry/jobs/default/cas', { v: 1 }, base.modRevision), // wins
      store.update('/registry/jobs/default/cas', { v: 2 }, base.modRevision), // Conflict: decided after the winner
      store.create('/registry/jobs/default/b', { v: 1 }),
      store.delete('/registry/jobs/default/missing'), // NotFound
      store.delete('/registry/jobs/default/a'), // sees the create above
      store.create('/registry/jobs/default/a', { v: 2 }), // and re-creates after the delete
    ]);
    const codes = results.map((r) => (r.status === 'fulfilled' ? r.value.modRevision : (r.reason as StoreError).code));
    const r = base.modRevision;
    assert.deepEqual(codes, [r + 1, 'AlreadyExists', r + 2, 'Conflict', r + 3, 'NotFound', r + 1, r + 5]);
    const deleted = results[6]!;
    assert.ok(deleted.status === 'fulfilled' && deleted.value.modRevision === r + 1, 'delete returns the last stored state');
    await watching;
    assert.deepEqual(events, [`${r + 1} put a`, `${r + 2} put cas`, `${r + 3} put b`, `${r + 4} delete a`, `${r + 5} put a`]);
    assert.equal(await store.currentRevision(), r + 5);
    assert.deepEqual((await store.get('/registry/jobs/default/cas'))?.value, { v: 1 });
    assert.deepEqual((await store.get('/registry/jobs/default/taken'))?.value, { v: 0 });
  } finally {
    await store.close();
  }
});

test('sqlite: close commits writes already accepted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-store-'));
  const path = join(dir, 'state.db');
  try {
    const first = new SqliteStore(path);
    const pending = first.create('/registry/namespaces/a', { n: 1 });
    await first.close();
    assert.equal((await pending).modRevision, 1);
    const second = new SqliteStore(path);
    assert.deepEqual((await second.get('/registry/namespaces/a'))?.value, { n: 1 });
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
