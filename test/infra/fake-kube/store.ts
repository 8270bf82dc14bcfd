/**
 * In-memory object storage of the FAKE Kubernetes API server: one global resourceVersion counter (as etcd's revision),
 * every write is one event, and a bounded history of events lets watches resume from a resourceVersion (older -> 410).
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: string;
  rv: number;
  object: KubeObject;
  /** The object before this write (MODIFIED/DELETED), to send watchers whose selector it left or entered. */
  prev?: KubeObject;
}

export type Listener = (event: StoreEvent) => void;

const keyOf = (resource: string, namespace: string | undefined, name: string) => `${resource}/${namespace ?? ''}/${name}`;

export class FakeStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private revision = 1;

  constructor(private readonly historySize = 1000) {}

  get resourceVersion(): number {
    return this.revision;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(resource, namespace, name));
  }

  /** Objects of a resource (in one namespace when given), ordered by namespace then name as the real server lists them. */
  list(resource: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    const out: KubeObject[] = [];
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) out.push(v);
    return out.sort((a, b) => cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name ?? '', b.metadata.name ?? ''));
  }

  /**
   * Stores `obj` (a fresh object the caller no longer mutates) under a new resourceVersion: ADDED when new, else MODIFIED.
   * uid and creationTimestamp are kept from the stored object, or made for a new one.
   */
  write(resource: string, obj: KubeObject): KubeObject {
    const meta = obj.metadata;
    const key = keyOf(resource, meta.namespace, meta.name!);
    const prev = this.objects.get(key);
    const rv = ++this.revision;
    const stored: KubeObject = {
      ...obj,
      metadata: {
        ...meta,
        uid: prev?.metadata.uid ?? meta.uid ?? randomUUID(),
        creationTimestamp: prev?.metadata.creationTimestamp ?? meta.creationTimestamp ?? nowSeconds(),
        resourceVersion: String(rv),
      },
    };
    this.objects.set(key, stored);
    this.emit({ type: prev ? 'MODIFIED' : 'ADDED', resource, rv, object: stored, ...(prev ? { prev } : {}) });
    return stored;
  }

  /** Removes an object; its DELETED event carries the object at a new resourceVersion, as the real server sends it. */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(resource, namespace, name);
    const prev = this.objects.get(key);
    if (!prev) return undefined;
    this.objects.delete(key);
    const rv = ++this.revision;
    const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', resource, rv, object, prev });
    return object;
  }

  /** Events after `rv`, or 'gone' when some of them have left the history (the caller answers 410 Expired). */
  since(rv: number): StoreEvent[] | 'gone' {
    if (rv >= this.revision) return [];
    const oldest = this.history[0]?.rv;
    if (oldest === undefined || oldest > rv + 1) return 'gone';
    return this.history.filter((e) => e.rv > rv);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return (this.history[0]?.rv ?? this.revision + 1) - 1;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    for (const l of [...this.listeners]) l(event);
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 3339 with second precision, as Kubernetes timestamps are. */
export function nowSeconds(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
