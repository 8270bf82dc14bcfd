/**
 * etcd Store (etcd3 client). Revisions are etcd revisions; conditional writes
 * are single txns, so etcd's serialisation gives the compare-and-swap.
 */
import { Etcd3, type IKeyValue, type IRequestOp, type ICompare } from 'etcd3';
import { prefixEnd, selectorAccepts } from '../keys.js';
import { StoreError, type JsonObject, type KeyValue, type ListOptions, type ListResult, type Store, type StoreEvent } from '../types.js';
import { guarded } from './errors.js';
import { watchEtcd } from './etcd-watch.js';

export interface EtcdStoreOptions {
  /** `host:port` of each member. */
  hosts: string[];
  /** Per-call deadline so a dead cluster fails fast as Unavailable (default 5 s). */
  timeoutMs?: number;
}

/** Keys per range request while filtering a list by selector. */
const SCAN_BATCH = 500;

export class EtcdStore implements Store {
  readonly backend = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly timeoutMs: number;

  constructor(options: EtcdStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.client = new Etcd3({
      hosts: options.hosts,
      dialTimeout: this.timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await guarded(`get '${key}'`, () => this.client.kv.range({ key: Buffer.from(key) }, this.callOptions()));
    const kv = res.kvs[0];
    return kv && toKeyValue(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const end = Buffer.from(prefixEnd(prefix));
    const limit = options.limit;
    let from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter + '\0' : prefix;
    let revision: number | undefined;
    const items: KeyValue[] = [];
    for (;;) {
      // Without a selector one extra key tells whether the limit cut the list.
      const batch = options.selector?.length || limit === undefined ? SCAN_BATCH : limit + 1;
      const res = await guarded(`list '${prefix}'`, () =>
        this.client.kv.range(
          // Later pages read at the first page's revision, so the whole list is one snapshot.
          { key: Buffer.from(from), range_end: end, limit: batch, ...(revision === undefined ? {} : { revision }) },
          this.callOptions(),
        ),
      );
      revision ??= Number(res.header.revision);
      for (const raw of res.kvs) {
        const kv = toKeyValue(raw);
        if (!selectorAccepts(options.selector, kv.value)) continue;
        if (limit !== undefined && items.length >= limit) {
          const last = items[items.length - 1];
          return last === undefined ? { items, revision } : { items, revision, more: last.key };
        }
        items.push(kv);
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) return { items, revision };
      from = last.key.toString() + '\0';
    }
  }

  async create(key: string, value: JsonObject): Promise<KeyValue> {
    const k = Buffer.from(key);
    const res = await guarded(`create '${key}'`, () =>
      this.client.kv.txn(
        {
          compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: k, value: Buffer.from(JSON.stringify(value)) } }],
        },
        this.callOptions(),
      ),
    );
    if (!res.succeeded) throw new StoreError('AlreadyExists', `key '${key}' already exists`);
    const revision = Number(res.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: JsonObject, expectedModRevision?: number): Promise<KeyValue> {
    const k = Buffer.from(key);
    const res = await this.conditional(key, expectedModRevision, {
      request_put: { key: k, value: Buffer.from(JSON.stringify(value)), prev_kv: true },
    });
    const prev = res.responses[0]?.response_put?.prev_kv;
    if (!prev) throw new Error(`etcd put of '${key}' returned no previous value`);
    return { key, value, createRevision: Number(prev.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const res = await this.conditional(key, expectedModRevision, {
      request_delete_range: { key: Buffer.from(key), prev_kv: true },
    });
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!prev) throw new Error(`etcd delete of '${key}' returned no previous value`);
    return toKeyValue(prev);
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent> {
    return watchEtcd(this.client, prefix, afterRevision, signal);
  }

  async compact(revision: number): Promise<void> {
    const target = Math.min(revision, await this.currentRevision());
    if (target <= 0) return;
    try {
      await guarded('compact', () => this.client.kv.compact({ revision: target, physical: true }, this.callOptions()));
    } catch (err) {
      // Compacting to a point already compacted is a no-op for us, an error for etcd.
      if (err instanceof Error && /compacted/.test(err.message)) return;
      throw err;
    }
  }

  async currentRevision(): Promise<number> {
    const res = await guarded('revision', () => this.client.kv.range({ key: Buffer.from('\0'), count_only: true }, this.callOptions()));
    return Number(res.header.revision);
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** One txn: the write if the key exists (at `expected`), otherwise read the key to say why not. */
  private async conditional(key: string, expected: number | undefined, op: IRequestOp) {
    const k = Buffer.from(key);
    const compare: ICompare =
      expected === undefined
        ? { key: k, target: 'Create', result: 'Greater', create_revision: 0 }
        : { key: k, target: 'Mod', result: 'Equal', mod_revision: expected };
    const res = await guarded(`write '${key}'`, () =>
      this.client.kv.txn({ compare: [compare], success: [op], failure: [{ request_range: { key: k } }] }, this.callOptions()),
    );
    if (res.succeeded) return res;
    const current = res.responses[0]?.response_range?.kvs[0];
    if (current === undefined) throw new StoreError('NotFound', `key '${key}' not found`);
    throw new StoreError('Conflict', `key '${key}' is at revision ${current.mod_revision}, not ${String(expected)}`);
  }

  private callOptions() {
    return { deadline: Date.now() + this.timeoutMs };
  }
}

export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: JSON.parse(kv.value.toString()) as JsonObject,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}
