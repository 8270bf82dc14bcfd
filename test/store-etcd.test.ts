/** The Store conformance suite against a real etcd process, plus etcd-only failure modes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { storeConformance } from './support/store-conformance.js';
import { EtcdStore } from '../src/store/etcd/index.js';
import { openStore, StoreError, type Store } from '../src/store/index.js';
import { startEtcd, type EtcdInstance } from './infra/etcd.js';
import { freePort, waitFor } from './infra/ports.js';

let etcd: EtcdInstance;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** After a restart the client may need a moment (reconnect, circuit breaker) before calls succeed. */
async function ready(store: Store): Promise<Store> {
  await waitFor(
    'etcd store to answer',
    async () => {
      await store.currentRevision();
      return true;
    },
    20_000,
    200,
  );
  return store;
}

storeConformance('etcd', async () => {
  const subject = {
    store: new EtcdStore({ hosts: [etcd.endpoint] }) as Store,
    restart: async () => {
      await subject.store.close();
      await etcd.restart();
      subject.store = await ready(new EtcdStore({ hosts: [etcd.endpoint] }));
      return subject.store;
    },
    cleanup: async () => {
      await subject.store.close();
    },
  };
  return subject;
});

test('etcd: openStore connects through an etcd:// URL', async () => {
  const store = await openStore(`etcd://${etcd.endpoint}`);
  try {
    assert.equal(store.backend, 'etcd');
    const kv = await store.create(`/open-${Date.now()}/registry/namespaces/default`, { kind: 'Namespace' });
    assert.ok(kv.modRevision > 0);
  } finally {
    await store.close();
  }
});

test('etcd: an unreachable cluster is Unavailable', async () => {
  const port = await freePort();
  const store = new EtcdStore({ hosts: [`127.0.0.1:${port}`], timeoutMs: 1000 });
  try {
    await assert.rejects(store.get('/registry/x'), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
    await assert.rejects(store.create('/registry/x', {}), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
  } finally {
    await store.close();
  }
  await assert.rejects(openStore(`etcd://127.0.0.1:${port}`), (err: unknown) => err instanceof StoreError && err.code === 'Unavailable');
});

test('etcd: a live watch survives an etcd restart without losing events', async () => {
  const store = new EtcdStore({ hosts: [etcd.endpoint] });
  const prefix = `/restart-${Date.now()}/`;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  try {
    const start = await store.currentRevision();
    const seen: number[] = [];
    const watching = (async () => {
      for await (const e of store.watch(prefix, start, ac.signal)) {
        seen.push(e.revision);
        if (seen.length === 4) return;
      }
    })();
    const written = [(await store.create(`${prefix}a`, { v: 1 })).modRevision, (await store.create(`${prefix}b`, { v: 1 })).modRevision];
    await etcd.restart();
    await ready(store);
    written.push((await store.create(`${prefix}c`, { v: 1 })).modRevision, (await store.update(`${prefix}a`, { v: 2 })).modRevision);
    await watching;
    assert.deepEqual(seen, written);
  } finally {
    clearTimeout(timer);
    ac.abort();
    await store.close();
  }
});
