/** In-memory Store for unit tests elsewhere; same semantics as the durable backends. */
import { prefixEnd, selectorAccepts } from '../keys.js';
import { EventHub, replayThenLive, type HistorySource } from '../watch-hub.js';
import { StoreError, type JsonObject, type KeyValue, type ListOptions, type ListResult, type Store, type StoreEvent } from '../types.js';

export interface MemoryStoreOptions {
  /** Events kept for watch resume (default 100,000). */
  historyLimit?: number;
}

export class MemoryStore implements Store, HistorySource {
  readonly backend = 'memory' as const;
  private readonly objects = new Map<string, KeyValue>();
  private readonly events: StoreEvent[] = [];
  private readonly hub = new EventHub();
  private readonly historyLimit: number;
  private revision = 0;
  private compacted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? 100_000;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const kv = this.objects.get(key);
    return kv && copy(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const end = prefixEnd(prefix);
    const from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : undefined;
    const keys = [...this.objects.keys()].filter((k) => k >= prefix && k < end && (from === undefined || k > from)).sort();
    const items: KeyValue[] = [];
    let more: string | undefined;
    for (const key of keys) {
      const kv = this.objects.get(key);
      if (kv === undefined || !selectorAccepts(options.selector, kv.value)) continue;
      if (options.limit !== undefined && items.length >= options.limit) {
        more = items[items.length - 1]?.key;
        break;
      }
      items.push(copy(kv));
    }
    return more === undefined ? { items, revision: this.revision } : { items, revision: this.revision, more };
  }

  async create(key: string, value: JsonObject): Promise<KeyValue> {
    if (this.objects.has(key)) throw new StoreError('AlreadyExists', `key '${key}' already exists`);
    const revision = ++this.revision;
    const kv: KeyValue = { key, value: structuredClone(value), createRevision: revision, modRevision: revision };
    this.objects.set(key, kv);
    this.record({ type: 'put', key, value: kv.value, revision, createRevision: revision });
    return copy(kv);
  }

  async update(key: string, value: JsonObject, expectedModRevision?: number): Promise<KeyValue> {
    const prev = this.current(key, expectedModRevision);
    const revision = ++this.revision;
    const kv: KeyValue = { key, value: structuredClone(value), createRevision: prev.createRevision, modRevision: revision };
    this.objects.set(key, kv);
    this.record({ type: 'put', key, value: kv.value, prevValue: prev.value, revision, createRevision: prev.createRevision });
    return copy(kv);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const prev = this.current(key, expectedModRevision);
    const revision = ++this.revision;
    this.objects.delete(key);
    this.record({ type: 'delete', key, value: prev.value, prevValue: prev.value, revision, createRevision: prev.createRevision });
    return copy(prev);
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent> {
    return replayThenLive(this.hub, this, prefix, afterRevision, signal);
  }

  async compact(revision: number): Promise<void> {
    this.prune(Math.min(revision, this.revision));
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async close(): Promise<void> {}

  eventsAfter(prefix: string, after: number, limit: number): StoreEvent[] {
    // Events are contiguous by revision, so the first wanted one sits at a computable index.
    const start = Math.max(0, after - this.compacted);
    const out: StoreEvent[] = [];
    for (let i = start; i < this.events.length && out.length < limit; i++) {
      const event = this.events[i];
      if (event !== undefined && event.key.startsWith(prefix)) out.push(structuredClone(event));
    }
    return out;
  }

  compactRevision(): number {
    return this.compacted;
  }

  private current(key: string, expectedModRevision: number | undefined): KeyValue {
    const kv = this.objects.get(key);
    if (kv === undefined) throw new StoreError('NotFound', `key '${key}' not found`);
    if (expectedModRevision !== undefined && kv.modRevision !== expectedModRevision) {
      throw new StoreError('Conflict', `key '${key}' is at revision ${kv.modRevision}, not ${expectedModRevision}`);
    }
    return kv;
  }

  private record(event: StoreEvent): void {
    this.events.push(event);
    // Pruned in batches so a full window does not cost an O(n) shift per write.
    if (this.events.length > this.historyLimit + pruneSlack(this.historyLimit)) this.prune(this.revision - this.historyLimit);
    if (this.hub.active) this.hub.publish(structuredClone(event));
  }

  private prune(upTo: number): void {
    if (upTo <= this.compacted) return;
    this.events.splice(0, upTo - this.compacted);
    this.compacted = upTo;
  }
}

export function pruneSlack(limit: number): number {
  return Math.max(1, Math.min(1000, Math.floor(limit / 10)));
}

function copy(kv: KeyValue): KeyValue {
  return { ...kv, value: structuredClone(kv.value) };
}
