/**
 * On-disk bookkeeping of the local manager. The disk, not memory, is the
 * source of truth so that a restarted SkyShift (a new LocalManager on the same
 * workdir) adopts the replicas a previous one started.
 *
 * Layout:
 *   <workdir>/jobs/<namespace>_<name>_<uid>/job.json        JobMeta
 *   <workdir>/jobs/<namespace>_<name>_<uid>/<rank>/          claimed by an atomic mkdir
 *       record.json   ReplicaRecord (rewritten atomically: tmp + rename)
 *       output.log    stdout + stderr of the replica
 *       run.sh        wrapper that records the exit code (see process.ts)
 *       command.sh    the job's `run`
 *       exitcode      written by the wrapper when the command ends
 *       cancelled     marker: cancel is in progress, the replica no longer counts
 *       work/         the replica's cwd and HOME, owned by the user it runs as (identity.ts)
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Resources } from '../types.js';

export interface JobMeta {
  uid: string;
  namespace: string;
  name: string;
  replicas: number;
}

export interface ReplicaRecord {
  uid: string;
  namespace: string;
  name: string;
  rank: number;
  resources: Resources;
  /** Who claimed the rank: lets a reader tell "still starting" from "starter crashed". */
  claimedBy: { pid: number; startTime: string | null };
  /** Unset until the process is spawned. */
  pid?: number;
  pgid?: number;
  /** Field 22 of /proc/<pid>/stat at spawn: guards against a recycled pid. */
  startTime?: string | null;
  startedAt?: string;
  /** podman container name, when the replica runs in a container. */
  container?: string;
}

export const FILES = {
  job: 'job.json',
  record: 'record.json',
  log: 'output.log',
  wrapper: 'run.sh',
  command: 'command.sh',
  exitcode: 'exitcode',
  cancelled: 'cancelled',
  /** Directory made by the wrapper as its first act: exactly one wrapper per replica runs, even when a lost start is retried. */
  started: 'started',
  /** The running wrapper's pid, written by the wrapper itself (the record may miss it after a crash right after spawn). */
  pid: 'pid',
  /** The replica's own directory: its cwd and HOME, owned by the replica user. */
  work: 'work',
} as const;

/** Names are DNS-1123 labels (no `_`), so `_` separates the parts unambiguously. */
export function jobDirName(job: { uid: string; namespace: string; name: string }): string {
  return `${job.namespace}_${job.name}_${job.uid.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

export class JobStore {
  readonly jobsDir: string;
  constructor(workdir: string) {
    this.jobsDir = join(workdir, 'jobs');
  }

  jobDir(job: { uid: string; namespace: string; name: string }): string {
    return join(this.jobsDir, jobDirName(job));
  }

  rankDir(job: { uid: string; namespace: string; name: string }, rank: number): string {
    return join(this.jobDir(job), String(rank));
  }

  async ensureJob(meta: JobMeta): Promise<string> {
    const dir = this.jobDir(meta);
    await ensureDir(dir);
    if ((await readJson<JobMeta>(join(dir, FILES.job))) === undefined) await writeJsonAtomic(join(dir, FILES.job), meta);
    return dir;
  }

  /**
   * Claim a rank: true for exactly one caller, across concurrent submits in
   * this or any other process, because mkdir of an existing directory fails.
   */
  async claim(job: { uid: string; namespace: string; name: string }, rank: number): Promise<boolean> {
    try {
      await mkdir(this.rankDir(job, rank));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Every job directory with its meta; directories without a readable job.json are skipped (being created or removed). */
  async listJobs(): Promise<Array<{ dir: string; meta: JobMeta }>> {
    let names: string[];
    try {
      names = await readdir(this.jobsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Array<{ dir: string; meta: JobMeta }> = [];
    for (const n of names.sort()) {
      const dir = join(this.jobsDir, n);
      const meta = await readJson<JobMeta>(join(dir, FILES.job));
      if (meta) out.push({ dir, meta });
    }
    return out;
  }

  /** Ranks that have a directory under the job, ascending. */
  async listRanks(jobDir: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(jobDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  async removeRank(job: { uid: string; namespace: string; name: string }, rank: number): Promise<void> {
    await rm(this.rankDir(job, rank), { recursive: true, force: true });
  }

  /** Removes the job directory once no rank is left in it. */
  async removeJobIfEmpty(job: { uid: string; namespace: string; name: string }): Promise<void> {
    const dir = this.jobDir(job);
    if ((await this.listRanks(dir)).length === 0) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdir spins forever on
 * some paths (e.g. under /proc, where mkdir says ENOENT although the parent
 * exists), which would hang a heartbeat on a misconfigured workdir.
 */
export async function ensureDir(path: string): Promise<void> {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      if ((await stat(p)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, '${p}'`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing file or (never expected, writes are atomic) a torn one both read as "not there yet".
    if (code === 'ENOENT' || code === 'ENOTDIR' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

let tmpCounter = 0;
/** Readers never see a half-written file: write a sibling, then rename over. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, path);
}

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Whether `path` exists (any kind of file). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The exit code the wrapper wrote for a replica (a garbled one counts as 1); undefined while it has not ended. */
export async function readExitCode(dir: string): Promise<number | undefined> {
  const text = await readText(join(dir, FILES.exitcode));
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : 1;
}
