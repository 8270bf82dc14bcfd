/**
 * The replica vocabulary every part shares. A job's replica is a *task*,
 * named `<job>-<rank>` everywhere (managers, status, logs, CLI); its rank is
 * 0..replicas-1. One function builds the name and one reads the rank back,
 * so the spelling lives here only.
 */

/** States of a task (one replica on one cluster); CANCELLED: stopped because its job FAILED. */
export const REPLICA_STATES = ['INIT', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'EVICTED', 'CANCELLED'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export function taskName(jobName: string, rank: number): string {
  return `${jobName}-${rank}`;
}

const TASK_RANK = /-(\d+)$/;

/** The rank a task name carries as its last `-N`; undefined for a name that carries none. */
export function rankOfTask(task: string): number | undefined {
  const m = TASK_RANK.exec(task);
  return m ? Number(m[1]) : undefined;
}

/** Table headers and rows (one per task) of a job status's taskStatus + taskDetails, for `describe`. */
export const TASK_COLUMNS = ['CLUSTER', 'TASK', 'STATE', 'EXIT CODE', 'STARTED', 'FINISHED'] as const;

export function taskRows(status: unknown): string[][] {
  const s = (status ?? {}) as { taskStatus?: Record<string, Record<string, string>>; taskDetails?: Record<string, Record<string, Record<string, unknown>>> };
  const rows: string[][] = [];
  for (const cluster of Object.keys(s.taskStatus ?? {}).sort()) {
    const tasks = s.taskStatus?.[cluster] ?? {};
    const names = Object.keys(tasks).sort((a, b) => (rankOfTask(a) ?? 0) - (rankOfTask(b) ?? 0) || (a < b ? -1 : 1));
    for (const task of names) {
      const d = s.taskDetails?.[cluster]?.[task] ?? {};
      const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
      rows.push([cluster, task, text(tasks[task]), text(d.exitCode), text(d.startedAt), text(d.finishedAt)]);
    }
  }
  return rows;
}
