/**
 * The data dir (~/.skyshift: signing key, tokens, admin password, by default
 * the SQLite store) belongs to one process. Every file SkyShift makes is
 * private (umask 077: files 0600, directories 0700), the data dir is 0700
 * even if an older version made it 0755, and a second `skyshift up` or
 * `skyshift server` on the same data dir refuses to start, naming the holder:
 * two processes would each cancel the other's replicas and run the same work
 * twice. A holder that crashed leaves a stale lock that the next start takes
 * over (see managers/local/dir-lock.ts).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DirLockedError, lockDirectory } from '../managers/index.js';

export function dataDirOf(flags: { dataDir?: string }): string {
  return resolve(flags.dataDir ?? join(homedir(), '.skyshift'));
}

/** Makes SkyShift's files private, then takes the data dir; throws naming the live holder. Returns the release. */
export function claimDataDir(dir: string, purpose: string): () => void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  try {
    return lockDirectory(dir, purpose);
  } catch (err) {
    if (err instanceof DirLockedError) {
      throw new Error(`data dir ${err.message}`);
    }
    throw err;
  }
}
