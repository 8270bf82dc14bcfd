/**
 * SQLite Store (better-sqlite3): one file in WAL mode. Every write is one
 * synchronous transaction (check, write, append event, bump revision), so
 * nothing can interleave with it on the event loop.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { prefixEnd, selectorAccepts } from '../keys.js';
import { EventHub, replayThenLive, type HistorySource } from '../watch-hub.js';
import {
  StoreError,
  type JsonObject,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEvent,
} from '../types.js';

export interface SqliteStoreOptions {
  /** Events kept for watch resume (default 100,000); older ones are compacted away. */
  historyLimit?: number;
}

interface ObjectRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
}

interface EventRow {
  rev: number;
  key: string;
  type: 'put' | 'delete';
  value: string;
  prev: string | null;
  create_rev: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, prev TEXT, create_rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, compact_rev INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (id, rev, compact_rev) VALUES (1, 0, 0);
`;

/** Rows fetched per statement while scanning a list with a selector. */
const SCAN_BATCH = 500;

export class SqliteStore implements Store, HistorySource {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly hub = new EventHub();
  private readonly historyLimit: number;
  private readonly pruneSlack: number;
  private revision: number;
  private compacted: number;
  private closed = false;

  private readonly stmts: ReturnType<typeof prepare>;
  private readonly createTx: (key: string, text: string) => number;
  private readonly updateTx: (key: string, text: string, expected: number | undefined) => { rev: number; prev: ObjectRow };
  private readonly deleteTx: (key: string, expected: number | undefined) => { rev: number; prev: ObjectRow };
  private readonly pruneTx: (upTo: number) => void;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.historyLimit = options.historyLimit ?? 100_000;
    this.pruneSlack = Math.max(1, Math.min(1000, Math.floor(this.historyLimit / 10)));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode stays consistent on power loss; only the last commits may be lost.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = prepare(this.db);
    const meta = this.stmts.meta.get() as { rev: number; compact_rev: number };
    const lastEvent = (this.stmts.lastEventRev.get() as { rev: number | null }).rev ?? 0;
    this.revision = Math.max(meta.rev, lastEvent);
    this.compacted = meta.compact_rev;

    const s = this.stmts;
    this.createTx = this.db.transaction((key: string, text: string) => {
      const rev = this.revision + 1;
      if (s.insert.run(key, text, rev, rev).changes === 0) {
        throw new StoreError('AlreadyExists', `key '${key}' already exists`);
      }
      s.insertEvent.run(rev, key, 'put', text, null, rev);
      this.commitRevision(rev);
      return rev;
    });
    this.updateTx = this.db.transaction((key: string, text: string, expected: number | undefined) => {
      const prev = this.check(key, expected);
      const rev = this.revision + 1;
      s.update.run(text, rev, key);
      s.insertEvent.run(rev, key, 'put', text, prev.value, prev.create_rev);
      this.commitRevision(rev);
      return { rev, prev };
    });
    this.deleteTx = this.db.transaction((key: string, expected: number | undefined) => {
      const prev = this.check(key, expected);
      const rev = this.revision + 1;
      s.remove.run(key);
      // The deleted value is stored once; readers supply it as both value and prevValue.
      s.insertEvent.run(rev, key, 'delete', prev.value, null, prev.create_rev);
      this.commitRevision(rev);
      return { rev, prev };
    });
    this.pruneTx = this.db.transaction((upTo: number) => {
      s.pruneEvents.run(upTo);
      s.setCompact.run(upTo, this.revision);
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const row = this.stmts.get.get(key) as ObjectRow | undefined;
    return row && toKeyValue(row);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    let from = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : undefined;
    const limit = options.limit;
    const items: KeyValue[] = [];
    const revision = this.revision;
    // Reads are synchronous, so every batch below sees the same snapshot as `revision`.
    for (;;) {
      const batch = (
        from === undefined ? this.stmts.listFrom.all(prefix, end, SCAN_BATCH) : this.stmts.listAfter.all(from, end, SCAN_BATCH)
      ) as ObjectRow[];
      for (const row of batch) {
        const kv = toKeyValue(row);
        if (!selectorAccepts(options.selector, kv.value)) continue;
        if (limit !== undefined && items.length >= limit) {
          const last = items[items.length - 1];
          return last === undefined ? { items, revision } : { items, revision, more: last.key };
        }
        items.push(kv);
      }
      const last = batch[batch.length - 1];
      if (batch.length < SCAN_BATCH || last === undefined) return { items, revision };
      from = last.key;
    }
  }

  async create(key: string, value: JsonObject): Promise<KeyValue> {
    this.assertOpen();
    const text = JSON.stringify(value);
    const rev = this.createTx(key, text);
    this.afterWrite({ type: 'put', key, text, revision: rev, createRevision: rev });
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: JsonObject, expectedModRevision?: number): Promise<KeyValue> {
    this.assertOpen();
    const text = JSON.stringify(value);
    const { rev, prev } = this.updateTx(key, text, expectedModRevision);
    this.afterWrite({ type: 'put', key, text, prevText: prev.value, revision: rev, createRevision: prev.create_rev });
    return { key, value, createRevision: prev.create_rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.assertOpen();
    const { rev, prev } = this.deleteTx(key, expectedModRevision);
    this.afterWrite({ type: 'delete', key, text: prev.value, revision: rev, createRevision: prev.create_rev });
    return toKeyValue(prev);
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<StoreEvent> {
    this.assertOpen();
    return replayThenLive(this.hub, this, prefix, afterRevision, signal);
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    this.prune(Math.min(revision, this.revision));
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  eventsAfter(prefix: string, after: number, limit: number): StoreEvent[] {
    const rows = (
      prefix === '' ? this.stmts.eventsAll.all(after, limit) : this.stmts.eventsPrefix.all(after, prefix, prefixEnd(prefix), limit)
    ) as EventRow[];
    return rows.map(toEvent);
  }

  compactRevision(): number {
    return this.compacted;
  }

  private check(key: string, expected: number | undefined): ObjectRow {
    const row = this.stmts.get.get(key) as ObjectRow | undefined;
    if (row === undefined) throw new StoreError('NotFound', `key '${key}' not found`);
    if (expected !== undefined && row.mod_rev !== expected) {
      throw new StoreError('Conflict', `key '${key}' is at revision ${row.mod_rev}, not ${expected}`);
    }
    return row;
  }

  /**
   * Inside a write transaction. The newest event row already records `rev`, so meta.rev is only
   * written when pruning could remove that row: one statement less on the hot path.
   */
  private commitRevision(rev: number): void {
    this.revision = rev;
  }

  private afterWrite(e: { type: 'put' | 'delete'; key: string; text: string; prevText?: string; revision: number; createRevision: number }): void {
    if (this.revision - this.compacted > this.historyLimit + this.pruneSlack) this.prune(this.revision - this.historyLimit);
    // Parsing costs as much as the write; skip it when nobody watches.
    if (!this.hub.active) return;
    const value = JSON.parse(e.text) as JsonObject;
    const event: StoreEvent = { type: e.type, key: e.key, value, revision: e.revision, createRevision: e.createRevision };
    if (e.type === 'delete') event.prevValue = value;
    else if (e.prevText !== undefined) event.prevValue = JSON.parse(e.prevText) as JsonObject;
    this.hub.publish(event);
  }

  private prune(upTo: number): void {
    if (upTo <= this.compacted) return;
    this.pruneTx(upTo);
    this.compacted = upTo;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('Unavailable', 'sqlite store is closed');
  }
}

function prepare(db: Database.Database) {
  return {
    meta: db.prepare('SELECT rev, compact_rev FROM meta WHERE id = 1'),
    setCompact: db.prepare('UPDATE meta SET compact_rev = ?, rev = ? WHERE id = 1'),
    lastEventRev: db.prepare('SELECT max(rev) AS rev FROM events'),
    get: db.prepare('SELECT key, value, create_rev, mod_rev FROM objects WHERE key = ?'),
    insert: db.prepare('INSERT OR IGNORE INTO objects (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE objects SET value = ?, mod_rev = ? WHERE key = ?'),
    remove: db.prepare('DELETE FROM objects WHERE key = ?'),
    listFrom: db.prepare('SELECT key, value, create_rev, mod_rev FROM objects WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
    listAfter: db.prepare('SELECT key, value, create_rev, mod_rev FROM objects WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
    insertEvent: db.prepare('INSERT INTO events (rev, key, type, value, prev, create_rev) VALUES (?, ?, ?, ?, ?, ?)'),
    eventsAll: db.prepare('SELECT rev, key, type, value, prev, create_rev FROM events WHERE rev > ? ORDER BY rev LIMIT ?'),
    eventsPrefix: db.prepare(
      'SELECT rev, key, type, value, prev, create_rev FROM events WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev LIMIT ?',
    ),
    pruneEvents: db.prepare('DELETE FROM events WHERE rev <= ?'),
  };
}

function toKeyValue(row: ObjectRow): KeyValue {
  return { key: row.key, value: JSON.parse(row.value) as JsonObject, createRevision: row.create_rev, modRevision: row.mod_rev };
}

function toEvent(row: EventRow): StoreEvent {
  const value = JSON.parse(row.value) as JsonObject;
  const event: StoreEvent = { type: row.type, key: row.key, value, revision: row.rev, createRevision: row.create_rev };
  if (row.type === 'delete') event.prevValue = value;
  else if (row.prev !== null) event.prevValue = JSON.parse(row.prev) as JsonObject;
  return event;
}
