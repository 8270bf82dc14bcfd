/** What the manager needs from Slurm, implemented by the CLI (cli.ts) and by slurmrestd (rest.ts). */
import type { NodeInfo } from './nodes.js';

/** One array task (or one plain job) as Slurm reports it. */
export interface SlurmTask {
  /** Array job id (the id sbatch printed). */
  arrayJobId: string;
  /** Array index = replica rank; undefined for a non-array job. */
  taskId?: number;
  state: string;
  name: string;
  comment: string;
}

export interface SubmitRequest {
  /** Script text (rest) and its path on the Slurm side (cli). */
  script: string;
  scriptPath: string;
  name: string;
  comment: string;
  array: number[];
  cpusPerTask: number;
  memoryMiB?: number;
  gres?: string;
  /** Output file pattern with `%a`. */
  output: string;
  workdir: string;
  partition?: string;
}

export interface SlurmBackend {
  readonly kind: 'cli' | 'rest';
  nodes(signal?: AbortSignal): Promise<NodeInfo[]>;
  /** Every job and array task slurmctld still remembers (pending, running and recently finished). */
  jobs(signal?: AbortSignal): Promise<SlurmTask[]>;
  /** Returns the array job id. */
  submit(req: SubmitRequest): Promise<string>;
  /** `123` (whole array) or `123_4` (one task). Unknown/finished ids are not an error. */
  cancel(ids: string[]): Promise<void>;
}

/** `0,2,5-7` / `0-9%2` (array_task_string, pending unsplit arrays) -> ranks. */
export function expandArray(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m?.[1]) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** Ranks as Slurm's compact `--array` syntax (`0,2` is fine; Slurm accepts a plain list). */
export function arraySpec(ranks: number[]): string {
  return [...ranks].sort((a, b) => a - b).join(',');
}
