/**
 * Informer (DESIGN §6): list + watch one kind into a local cache and tell
 * handlers what changed. Resumes watches from the last resourceVersion seen
 * (BOOKMARKs included), relists on 410 and synthesises deletes for objects
 * that vanished meanwhile, and reconnects with capped exponential backoff
 * (with jitter, so informers failing together do not retry together).
 */
import { ApiError } from '../api/errors.js';
import { objectKey, type ApiObject, type WatchEvent } from '../api/object.js';
import { backoffDelay, sleep, type BackoffOptions } from '../lib/index.js';
import { DEFAULT_PAGE_SIZE, type RestClient } from './client.js';
import type { KindRef } from './paths.js';

export interface InformerOptions {
  /** Omit to watch a namespaced kind across all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** Reconnect delays (default 200 ms doubling to 30 s, 20% jitter). */
  backoff?: BackoffOptions;
  /** Injectable so tests need not wait real time. Must resolve promptly on abort. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>;
  /** Called for every failure that leads to a reconnect (logging hook). */
  onError?: (err: unknown, retryInMs: number) => void;
  /** Items per list page on relist (default 500), so a huge kind never arrives as one response. */
  pageSize?: number;
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;

class Gone extends Error {}

/** Store revisions are decimal integers; anything else is treated as incomparable. */
function isOlder(candidate: string | undefined, current: string | undefined): boolean {
  if (!candidate || !current || !/^\d+$/.test(candidate) || !/^\d+$/.test(current)) return false;
  return BigInt(candidate) < BigInt(current);
}

export class Informer<T extends ApiObject = ApiObject> {
  private readonly cache = new Map<string, T>();
  private readonly addHandlers: AddHandler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private resourceVersion = '';
  private synced = false;
  private resolveSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.resolveSynced = resolve));
  private readonly backoff: BackoffOptions;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<unknown>;

  constructor(
    private readonly client: RestClient,
    private readonly kind: KindRef,
    private readonly options: InformerOptions = {},
  ) {
    this.backoff = options.backoff ?? {};
    // The plain sleep keeps the process alive: a process whose only work is an
    // informer waiting to reconnect must wait, not exit.
    this.sleep = options.sleep ?? sleep;
  }

  onAdd(handler: AddHandler<T>): this {
    this.addHandlers.push(handler);
    return this;
  }
  onUpdate(handler: UpdateHandler<T>): this {
    this.updateHandlers.push(handler);
    return this;
  }
  onDelete(handler: DeleteHandler<T>): this {
    this.deleteHandlers.push(handler);
    return this;
  }

  /** Resolves once the first list has been loaded into the cache. */
  hasSynced(): Promise<void> {
    return this.syncedPromise;
  }
  get isSynced(): boolean {
    return this.synced;
  }
  /** The resourceVersion the next watch resumes from ('' means: relist). */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }
  list(): T[] {
    return [...this.cache.values()];
  }
  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Runs until `signal` aborts; never rejects for server or network errors. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist(signal);
        const events = await this.watchOnce(signal);
        // A stream that closes without delivering anything is treated like a
        // failure, so a server that keeps hanging up does not make us spin.
        if (events > 0) failures = 0;
        else failures++;
        if (failures > 0 && !signal.aborted) await this.sleep(backoffDelay(failures, this.backoff), signal);
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof Gone || (err instanceof ApiError && err.code === 410)) {
          this.resourceVersion = '';
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, this.backoff);
        this.options.onError?.(err, delay);
        await this.sleep(delay, signal);
      }
    }
  }

  private listOptions() {
    return this.options.namespace
      ? { namespace: this.options.namespace, labelSelector: this.options.labelSelector }
      : { allNamespaces: true, labelSelector: this.options.labelSelector };
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await this.client.listAll<T>(this.kind, { ...this.listOptions(), pageSize: this.options.pageSize ?? DEFAULT_PAGE_SIZE, signal });
    const fresh = new Map<string, T>();
    for (const item of list.items) fresh.set(objectKey(item), item);
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emitDelete(old);
      }
    }
    for (const [key, obj] of fresh) this.upsert(key, obj);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      this.resolveSynced();
    }
  }

  /** One watch connection; returns the number of events it delivered. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    let count = 0;
    const stream = this.client.watch<T>(this.kind, {
      ...this.listOptions(),
      resourceVersion: this.resourceVersion,
      signal,
    });
    for await (const event of stream) {
      count++;
      this.apply(event);
    }
    return count;
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object;
      if (status.code === 410) throw new Gone('watch expired');
      throw ApiError.fromStatus(event.object, status.code ?? 500);
    }
    const rv = event.object?.metadata?.resourceVersion;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') {
      this.upsert(objectKey(event.object), event.object);
    } else if (event.type === 'DELETED') {
      const key = objectKey(event.object);
      const old = this.cache.get(key);
      this.cache.delete(key);
      this.emitDelete(old ?? event.object);
    }
    if (rv) this.resourceVersion = rv;
  }

  private upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    // A paged relist resumes the watch from its first page, so a change seen on a
    // later page may be replayed: never step an object back to an older version.
    if (old && isOlder(obj.metadata.resourceVersion, old.metadata.resourceVersion)) return;
    this.cache.set(key, obj);
    if (!old) {
      for (const h of this.addHandlers) h(obj);
    } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      for (const h of this.updateHandlers) h(old, obj);
    }
  }

  private emitDelete(obj: T): void {
    for (const h of this.deleteHandlers) h(obj);
  }
}
