/**
 * A local replica's exit code, start and finish time for the job status:
 * start from record.json (written at spawn), exit code from the wrapper's
 * exitcode file and finish from that file's modification time.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskDetail } from '../types.js';
import { FILES, readJson, readText, type ReplicaRecord } from './records.js';

export async function replicaDetail(dir: string, state: string): Promise<TaskDetail | undefined> {
  if (state !== 'RUNNING' && state !== 'COMPLETED' && state !== 'FAILED') return undefined;
  const out: TaskDetail = {};
  const record = await readJson<ReplicaRecord>(join(dir, FILES.record));
  if (record?.startedAt) out.startedAt = record.startedAt;
  if (state === 'RUNNING') return out.startedAt ? out : undefined;
  const path = join(dir, FILES.exitcode);
  const text = (await readText(path))?.trim();
  if (text !== undefined && text !== '') {
    const n = Number(text);
    if (Number.isInteger(n)) out.exitCode = n;
    try {
      out.finishedAt = (await stat(path)).mtime.toISOString();
    } catch {
      // removed meanwhile: no finish time
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
