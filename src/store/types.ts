/**
 * The Store: a small MVCC key-value contract that both backends (SQLite, etcd)
 * satisfy, proven by one conformance suite (conformance.ts).
 *
 * Keys look like `/registry/{plural}/{namespace}/{name}` or `/registry/{plural}/{name}`.
 * Values are JSON objects; the store never interprets them except for label
 * selectors on `metadata.labels`.
 * Revisions are one global, strictly increasing counter (etcd semantics): every
 * create, update or delete gets the next revision.
 */
import type { LabelSelector } from '../api/index.js';

export type JsonObject = Record<string, unknown>;

export interface KeyValue {
  key: string;
  value: JsonObject;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last write to the key. */
  modRevision: number;
}

export interface ListOptions {
  /** Only values whose metadata.labels match. */
  selector?: LabelSelector;
  /** At most this many items (after selector filtering). */
  limit?: number;
  /** Only keys strictly greater than this key (pagination). */
  startAfter?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The store revision the list reflects; watch from it to see every later change. */
  revision: number;
  /** Set when `limit` cut the list: the last key returned, to pass as `startAfter`. */
  more?: string;
}

export interface StoreEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value for put, the last value for delete. */
  value: JsonObject;
  /** The previous value for an update or delete; absent for a create. */
  prevValue?: JsonObject;
  /** Revision of this event. For put it is also the key's modRevision. */
  revision: number;
  createRevision: number;
}

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Unavailable';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

export interface Store {
  readonly backend: 'sqlite' | 'etcd' | 'memory';

  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix` (callers end prefixes with '/'), sorted by key. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Throws StoreError('AlreadyExists') if the key exists. */
  create(key: string, value: JsonObject): Promise<KeyValue>;
  /**
   * Replace the value. Throws NotFound if absent, Conflict if `expectedModRevision`
   * is given and differs from the stored modRevision.
   */
  update(key: string, value: JsonObject, expectedModRevision?: number): Promise<KeyValue>;
  /** Remove the key, returning its last value. NotFound / Conflict as for update. */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Every event on keys under `prefix` with revision > `afterRevision`, in order,
   * none missing, then live events until `signal` aborts. If `afterRevision` is
   * older than the retained history the iterator throws StoreError('Expired').
   */
  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent>;
  /** Drop history at or below `revision`; later watches from there get Expired. */
  compact(revision: number): Promise<void>;
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}
