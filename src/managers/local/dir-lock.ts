/**
 * One directory, one owning process. A SkyShift data dir or a local cluster's
 * work dir used by two live processes at once loses work: each cancels the
 * other's replicas as strangers, and both run the same job. The lock is a file
 * naming its holder (pid and the process's start time from /proc, so a pid
 * recycled by another program after a crash does not count as the holder).
 *
 * - Taken with O_EXCL create: exactly one of several racing starters wins.
 * - Held by a process, not by an object: in one process (e.g. `skyshift up`,
 *   whose skylet and log reader both open the same cluster) it is re-entrant.
 * - After a crash the holder is dead: the next starter removes the stale file
 *   (only if it still names that dead holder) and takes the lock.
 * - Released on close and at process exit.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStatSync } from './process.js';

export interface LockHolder {
  pid: number;
  startTime: string | null;
  /** What the holder is, e.g. "skyshift up" or "local cluster 'edge'". */
  purpose: string;
  acquiredAt: string;
}

export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(`${dir} is in use by process ${holder.pid} (${holder.purpose}, since ${holder.acquiredAt}); stop it first or choose another directory`);
  }
}

export const LOCK_FILE = 'skyshift.lock';

const held = new Map<string, { count: number; content: string }>();
let exitHookInstalled = false;

/**
 * Takes the lock of `dir` for this process. Resolves with a release function;
 * throws DirLockedError naming the live holder. The directory must exist.
 */
export function lockDirectory(dir: string, purpose: string): () => void {
  const path = join(dir, LOCK_FILE);
  const mine = held.get(path);
  if (mine) {
    mine.count += 1;
    return once(() => release(path));
  }
  const self: LockHolder = { pid: process.pid, startTime: procStatSync(process.pid)?.startTime ?? null, purpose, acquiredAt: new Date().toISOString() };
  const content = JSON.stringify(self) + '\n';
  // Two rounds: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, content, { flag: 'wx', mode: 0o600 });
      held.set(path, { count: 1, content });
      installExitHook();
      return once(() => release(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = readHolder(path);
    if (existing && existing.holder.pid === process.pid && existing.holder.startTime === self.startTime) {
      // Our own lock from an earlier open in this process that was released without the file (should not happen): retake it.
      held.set(path, { count: 1, content: existing.raw });
      return once(() => release(path));
    }
    if (existing && isLive(existing.holder)) throw new DirLockedError(dir, existing.holder);
    removeIfUnchanged(path, existing?.raw);
  }
  const last = readHolder(path);
  throw new DirLockedError(dir, last?.holder ?? { pid: 0, startTime: null, purpose: 'unknown', acquiredAt: 'unknown' });
}

/** Who holds `dir`'s lock, if a live process does. */
export function lockHolder(dir: string): LockHolder | undefined {
  const existing = readHolder(join(dir, LOCK_FILE));
  return existing && isLive(existing.holder) ? existing.holder : undefined;
}

function release(path: string): void {
  const mine = held.get(path);
  if (!mine) return;
  mine.count -= 1;
  if (mine.count > 0) return;
  held.delete(path);
  removeIfUnchanged(path, mine.content);
}

function readHolder(path: string): { holder: LockHolder; raw: string } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const holder = JSON.parse(raw) as LockHolder;
    if (Number.isInteger(holder.pid) && holder.pid > 0) return { holder, raw };
  } catch {
    /* torn or foreign content: treated as stale below */
  }
  return { holder: { pid: 0, startTime: null, purpose: 'unreadable lock', acquiredAt: 'unknown' }, raw };
}

function isLive(holder: LockHolder): boolean {
  if (holder.pid <= 0) return false;
  const st = procStatSync(holder.pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return holder.startTime === null || st.startTime === holder.startTime;
}

/** Deletes the lock file only if it still holds `expected`: never a lock a racing starter just took. */
function removeIfUnchanged(path: string, expected: string | undefined): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  if (expected !== undefined && current !== expected) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [path, { content }] of held) removeIfUnchanged(path, content);
    held.clear();
  });
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
