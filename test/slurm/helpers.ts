/** Shared helpers of the Slurm suites: job objects and polling. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../src/api/index.js';
import type { ClusterManager, JobTasks } from '../../src/managers/index.js';
import { testJob } from '../support/jobs.js';

export function job(
  name: string,
  run: string,
  opts: { replicas?: number; envs?: Record<string, string>; resources?: Record<string, number>; uid?: string } = {},
): Job {
  const uid = opts.uid ?? `${name}-${Math.random().toString(36).slice(2, 10)}-uid`;
  return testJob(name, { run, envs: opts.envs ?? {}, replicas: opts.replicas ?? 1, resources: opts.resources ?? { cpus: 1, memory: 64 } }, { uid });
}

export const ranks = (n: number) => Array.from({ length: n }, (_, i) => i);
export const ref = (j: Job) => ({ uid: j.metadata.uid ?? '', namespace: j.metadata.namespace ?? 'default', name: j.metadata.name });

export async function tasksOf(m: ClusterManager, j: Job): Promise<JobTasks | undefined> {
  return (await m.tasks()).find((t) => t.uid === j.metadata.uid);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

export async function states(m: ClusterManager, j: Job, want: (s: string[]) => boolean, what: string, timeoutMs?: number): Promise<Record<string, string>> {
  return waitFor(
    `${j.metadata.name}: ${what}`,
    async () => {
      const t = await tasksOf(m, j);
      const s = Object.values(t?.tasks ?? {});
      return t && s.length > 0 && want(s) ? t.tasks : undefined;
    },
    timeoutMs,
  );
}

export async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}
