/**
 * Public face of src/store: the Store contract, its backends and `openStore`.
 * Backends load lazily so a process using SQLite never loads grpc and vice versa.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { StoreError, type Store } from './types.js';

export * from './types.js';
// The conformance suite every backend passes lives in test/support/store-conformance.ts (tests only).

/**
 * Open a store from a URL: `sqlite:PATH` (`~` expanded, parent directories
 * created), `etcd://h1:2379,h2:2379`, or `memory:`.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const raw = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (raw === '') throw new Error(`store URL '${url}' needs a file: sqlite:PATH`);
    const path = raw === '~' || raw.startsWith('~/') ? homedir() + raw.slice(1) : resolve(raw);
    const { SqliteStore } = await import('./sqlite/index.js');
    return new SqliteStore(path);
  }
  if (url.startsWith('etcd://')) {
    const hosts = url
      .slice('etcd://'.length)
      .replace(/\/+$/, '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (hosts.length === 0 || hosts.some((h) => !/^[^\s/:]+:\d+$/.test(h))) {
      throw new Error(`store URL '${url}' must be etcd://host:port[,host:port...]`);
    }
    const { EtcdStore } = await import('./etcd/index.js');
    const store = new EtcdStore({ hosts });
    try {
      await store.currentRevision();
    } catch (err) {
      await store.close();
      throw err instanceof StoreError ? err : new StoreError('Unavailable', `etcd at ${hosts.join(',')}: ${String(err)}`);
    }
    return store;
  }
  if (url === 'memory:' || url === 'memory') {
    const { MemoryStore } = await import('./memory/index.js');
    return new MemoryStore();
  }
  throw new Error(`unsupported store URL '${url}': use sqlite:PATH, etcd://host:port[,host:port], or memory:`);
}
