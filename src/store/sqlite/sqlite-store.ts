/**
 * SQLite Store (better-sqlite3): one file in WAL mode.
 *
 * Writes are group-committed: every create, update and delete that arrives in
 * one event-loop turn is queued and the queue is written in ONE transaction at
 * the end of the turn (setImmediate), because the commit, not the statements,
 * is most of a write's cost. Inside that transaction the ops are decided one
 * after another in arrival order, each with its own check (exists? at the
 * expected revision?), so each op succeeds or fails on its own exactly as if it
 * had its own transaction: a failed check writes nothing and takes no
 * revision. Revisions, events and promise settlement follow arrival order.
 * The commit and the publishing of its events happen in one synchronous
 * callback, so nothing can interleave with them on the event loop.
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { prefixEnd, selectorAccepts } from '../keys.js';
import { EventHub, replayThenLive, type HistorySource } from '../watch-hub.js';
import { StoreError, type JsonObject, type KeyValue, type ListOptions, type ListResult, type Store, type StoreEvent } from '../types.js';

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

type WriteOp =
  | { type: 'create'; key: string; text: string }
  | { type: 'update'; key: string; text: string; expected: number | undefined }
  | { type: 'delete'; key: string; expected: number | undefined };

/** What one op did inside the batch transaction: a revision and the previous row, or its own error. */
type OpOutcome = { rev: number; prev: ObjectRow | undefined } | { error: unknown };

interface Pending {
  op: WriteOp;
  resolve: (outcome: { rev: number; prev: ObjectRow | undefined }) => void;
  reject: (err: unknown) => void;
}

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
  /** Writes waiting for the end of this event-loop turn. */
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly batchTx: (ops: WriteOp[]) => { outcomes: OpOutcome[]; revision: number };
  private readonly pruneTx: (upTo: number) => void;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.historyLimit = options.historyLimit ?? 100_000;
    this.pruneSlack = Math.max(1, Math.min(1000, Math.floor(this.historyLimit / 10)));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode stays consistent on power loss; only the last commits may be lost.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    if (path !== ':memory:') makePrivate(path);
    this.stmts = prepare(this.db);
    const meta = this.stmts.meta.get() as { rev: number; compact_rev: number };
    const lastEvent = (this.stmts.lastEventRev.get() as { rev: number | null }).rev ?? 0;
    this.revision = Math.max(meta.rev, lastEvent);
    this.compacted = meta.compact_rev;

    // this.revision moves only after the commit, so a rolled-back batch leaves it untouched.
    // The newest event row records the revision, so meta.rev is written only when pruning.
    this.batchTx = this.db.transaction((ops: WriteOp[]) => {
      let revision = this.revision;
      const outcomes: OpOutcome[] = [];
      for (const op of ops) {
        try {
          const prev = this.applyOp(op, revision + 1);
          revision++;
          outcomes.push({ rev: revision, prev });
        } catch (error) {
          // Only the op's own check throws here (nothing written yet for it); others go on.
          if (!(error instanceof StoreError)) throw error;
          outcomes.push({ error });
        }
      }
      return { outcomes, revision };
    });
    this.pruneTx = this.db.transaction((upTo: number) => {
      this.stmts.pruneEvents.run(upTo);
      this.stmts.setCompact.run(upTo, this.revision);
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
      const batch = (from === undefined ? this.stmts.listFrom.all(prefix, end, SCAN_BATCH) : this.stmts.listAfter.all(from, end, SCAN_BATCH)) as ObjectRow[];
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
    const { rev } = await this.enqueue({ type: 'create', key, text: JSON.stringify(value) });
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: JsonObject, expectedModRevision?: number): Promise<KeyValue> {
    this.assertOpen();
    const { rev, prev } = await this.enqueue({ type: 'update', key, text: JSON.stringify(value), expected: expectedModRevision });
    return { key, value, createRevision: prev!.create_rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.assertOpen();
    const { prev } = await this.enqueue({ type: 'delete', key, expected: expectedModRevision });
    return toKeyValue(prev!);
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
    // Writes already accepted are committed, not dropped.
    this.flush();
    this.closed = true;
    this.db.close();
  }

  eventsAfter(prefix: string, after: number, limit: number): StoreEvent[] {
    const rows = (prefix === '' ? this.stmts.eventsAll.all(after, limit) : this.stmts.eventsPrefix.all(after, prefix, prefixEnd(prefix), limit)) as EventRow[];
    return rows.map(toEvent);
  }

  compactRevision(): number {
    return this.compacted;
  }

  private enqueue(op: WriteOp): Promise<{ rev: number; prev: ObjectRow | undefined }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: requests parsed in this I/O phase all join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits the queued writes in one transaction, then publishes and settles them in order. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (this.closed) {
      for (const p of batch) p.reject(new StoreError('Unavailable', 'sqlite store is closed'));
      return;
    }
    const ops = batch.map((p) => p.op);
    let outcomes: OpOutcome[];
    try {
      const done = this.batchTx(ops);
      this.revision = done.revision;
      outcomes = done.outcomes;
    } catch {
      // The batch rolled back on an unexpected error (I/O, busy): retry op by op so only the op
      // that causes it fails, and a failure of the database itself fails each op with its own error.
      outcomes = ops.map((op) => {
        try {
          const done = this.batchTx([op]);
          this.revision = done.revision;
          return done.outcomes[0]!;
        } catch (error) {
          return { error };
        }
      });
    }
    if (this.revision - this.compacted > this.historyLimit + this.pruneSlack) this.prune(this.revision - this.historyLimit);
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if ('error' in outcome) return p.reject(outcome.error);
      this.publish(p.op, outcome.rev, outcome.prev);
      p.resolve(outcome);
    });
  }

  /** One op inside the batch transaction at revision `rev`; throws StoreError before writing if its check fails. */
  private applyOp(op: WriteOp, rev: number): ObjectRow | undefined {
    const s = this.stmts;
    switch (op.type) {
      case 'create':
        if (s.insert.run(op.key, op.text, rev, rev).changes === 0) {
          throw new StoreError('AlreadyExists', `key '${op.key}' already exists`);
        }
        s.insertEvent.run(rev, op.key, 'put', op.text, null, rev);
        return undefined;
      case 'update': {
        const prev = this.check(op.key, op.expected);
        s.update.run(op.text, rev, op.key);
        s.insertEvent.run(rev, op.key, 'put', op.text, prev.value, prev.create_rev);
        return prev;
      }
      case 'delete': {
        const prev = this.check(op.key, op.expected);
        s.remove.run(op.key);
        // The deleted value is stored once; readers supply it as both value and prevValue.
        s.insertEvent.run(rev, op.key, 'delete', prev.value, null, prev.create_rev);
        return prev;
      }
    }
  }

  private check(key: string, expected: number | undefined): ObjectRow {
    const row = this.stmts.get.get(key) as ObjectRow | undefined;
    if (row === undefined) throw new StoreError('NotFound', `key '${key}' not found`);
    if (expected !== undefined && row.mod_rev !== expected) {
      throw new StoreError('Conflict', `key '${key}' is at revision ${row.mod_rev}, not ${expected}`);
    }
    return row;
  }

  private publish(op: WriteOp, revision: number, prev: ObjectRow | undefined): void {
    // Parsing costs as much as the write; skip it when nobody watches.
    if (!this.hub.active) return;
    const text = op.type === 'delete' ? prev!.value : op.text;
    const value = JSON.parse(text) as JsonObject;
    const event: StoreEvent = { type: op.type === 'delete' ? 'delete' : 'put', key: op.key, value, revision, createRevision: prev?.create_rev ?? revision };
    if (op.type === 'delete') event.prevValue = value;
    else if (prev !== undefined) event.prevValue = JSON.parse(prev.value) as JsonObject;
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
    eventsPrefix: db.prepare('SELECT rev, key, type, value, prev, create_rev FROM events WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev LIMIT ?'),
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

/**
 * The store holds password hashes and every object: readable by SkyShift
 * only, whatever the umask, including files an older version made 0644.
 * SQLite gives the -wal and -shm files the database file's mode.
 */
function makePrivate(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
