/**
 * Helpers for tests that drive a ClusterManager directly, without an API
 * server: address a job, read its tasks and logs, wait for them to settle.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../src/api/index.js';
import type { ClusterManager, JobTasks } from '../../src/managers/index.js';

/** The reference a manager takes for a job's logs and deletion. */
export const ref = (j: Job) => ({ uid: j.metadata.uid ?? '', namespace: j.metadata.namespace ?? 'default', name: j.metadata.name });

export async function tasksOf(m: ClusterManager, j: Job): Promise<JobTasks | undefined> {
  return (await m.tasks()).find((t) => t.uid === j.metadata.uid);
}

export async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}

/**
 * `waitFor` and `allDone` sharing one default deadline, chosen per test file:
 * containers take longer to start than local processes.
 */
export function taskWaiters(defaultTimeoutMs: number) {
  /** Poll `fn` until it returns something other than undefined/false, and return that. */
  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = defaultTimeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  /** Wait until the job has tasks and every one is COMPLETED or FAILED; returns their states. */
  async function allDone(m: ClusterManager, j: Job): Promise<Record<string, string>> {
    return waitFor(`job ${j.metadata.name} to finish`, async () => {
      const states = (await tasksOf(m, j))?.tasks ?? {};
      const values = Object.values(states);
      return values.length > 0 && values.every((s) => s === 'COMPLETED' || s === 'FAILED') ? states : undefined;
    });
  }

  return { waitFor, allDone };
}

/**
 * SIGKILL the process group of every replica the local manager recorded under
 * `workdirs` (jobs/<job>/<replica>/record.json). Replicas run in their own
 * groups and outlive the manager by design, so a test's `after` must do this.
 */
export async function killRecordedProcessGroups(workdirs: string[]): Promise<void> {
  for (const dir of workdirs) {
    const jobs = join(dir, 'jobs');
    for (const jd of await readdir(jobs).catch(() => [] as string[])) {
      for (const rd of await readdir(join(jobs, jd)).catch(() => [] as string[])) {
        const rec = await readFile(join(jobs, jd, rd, 'record.json'), 'utf8').catch(() => undefined);
        const pgid = rec ? (JSON.parse(rec) as { pgid?: number }).pgid : undefined;
        if (pgid) {
          try {
            process.kill(-pgid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
  }
}
