/**
 * A Kubernetes informer: list once, then watch from the list's
 * resourceVersion, keeping a local cache that every read is served from.
 * A watch that ends is resumed from the last resourceVersion seen (an event
 * or a BOOKMARK); a 410 Gone (history compacted) relists; errors back off
 * (capped, jittered). An idle cluster thus costs one open watch and nothing
 * else. `lastContact` says when the API server last answered, so the manager
 * can tell a quiet cluster from a dead connection.
 */
import { createInterface } from 'node:readline';
import { backoffDelay, sleep } from '../../lib/index.js';
import { KubeRequestError, type KubeRest } from './rest.js';

export interface KubeMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; uid: string }[];
}
export interface KubeObject {
  metadata: KubeMeta;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerOptions<T> {
  /** Collection path, e.g. /api/v1/pods. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  onChange?: (type: ChangeType, obj: T) => void;
}

interface WatchEvent<T> {
  type: ChangeType | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; message?: string };
}

export class Informer<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private resourceVersion = '';
  private synced = false;
  private readonly syncWaiters = new Set<() => void>();
  /** Aborts the current list/watch request only (reconnect), not the informer. */
  private current: AbortController | undefined;
  /** Epoch ms of the last answer from the API server (list, event, bookmark). */
  lastContact = 0;
  /** The last failure, cleared by the next success. */
  lastError: string | undefined;

  constructor(
    private readonly rest: KubeRest,
    private readonly options: InformerOptions<T>,
  ) {}

  get isSynced(): boolean {
    return this.synced;
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(keyOf({ name, namespace }));
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const attempt = new AbortController();
      this.current = attempt;
      const both = AbortSignal.any([signal, attempt.signal]);
      try {
        if (this.resourceVersion === '') await this.relist(both);
        await this.watch(both);
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeRequestError && err.code === 410) {
          this.resourceVersion = '';
          continue;
        }
        if (!attempt.signal.aborted) this.lastError = err instanceof Error ? err.message : String(err);
        // Whoever waits for the first list learns at once that it failed, rather than after a timeout.
        if (!this.synced) for (const wake of [...this.syncWaiters]) wake();
        failures += 1;
        await sleep(backoffDelay(failures, { baseMs: 250, maxMs: 15_000 }), signal);
      }
    }
  }

  /** Drops the current connection and starts again from the last resourceVersion (used when the server stopped answering). */
  reconnect(): void {
    this.current?.abort();
  }

  /** Resolves true once the first list is in the cache; false when an attempt fails first (see lastError) or `signal` aborts. */
  waitSynced(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.syncWaiters.delete(done);
        signal?.removeEventListener('abort', aborted);
        resolve(this.synced);
      };
      const aborted = () => {
        this.syncWaiters.delete(done);
        resolve(false);
      };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await this.rest.json<{ items?: T[]; metadata?: { resourceVersion?: string } }>(this.options.path, { query: this.query(), signal });
    this.contact();
    const fresh = new Map((list.items ?? []).map((o) => [keyOf(o.metadata), o]));
    for (const [key, old] of this.objects) if (!fresh.has(key)) this.apply('DELETED', old);
    for (const obj of fresh.values()) this.apply(this.objects.has(keyOf(obj.metadata)) ? 'MODIFIED' : 'ADDED', obj);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const wake of [...this.syncWaiters]) wake();
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const res = await this.rest.stream(this.options.path, {
      query: { ...this.query(), watch: 'true', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true' },
      signal,
    });
    this.contact();
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    const onAbort = () => res.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        this.contact();
        if (event.type === 'ERROR') {
          // 410 Gone: the history we resume from is compacted; anything else: reconnect with backoff.
          throw new KubeRequestError(event.object.message ?? 'watch error', event.object.code ?? 500);
        }
        const rv = event.object.metadata?.resourceVersion;
        if (event.type !== 'BOOKMARK') this.apply(event.type, event.object);
        if (rv) this.resourceVersion = rv;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      lines.close();
    }
    if (signal.aborted) throw new Error('watch aborted');
  }

  private apply(type: ChangeType, obj: T): void {
    const key = keyOf(obj.metadata);
    if (type === 'DELETED') {
      if (!this.objects.delete(key)) return;
    } else {
      const old = this.objects.get(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      this.objects.set(key, obj);
    }
    this.options.onChange?.(type, obj);
  }

  private contact(): void {
    this.lastContact = Date.now();
    this.lastError = undefined;
  }
}

function keyOf(meta: { name: string; namespace?: string }): string {
  return `${meta.namespace ?? ''}/${meta.name}`;
}
