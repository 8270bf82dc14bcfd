/**
 * Marker files of burst tests: every replica appends `<job>-<rank> s|e <ns since epoch> <cwd>` when it starts
 * and ends. This reads them back as one run interval per replica, with the cluster taken from the local work
 * dir (`.../clusters/<name>/...`).
 */
import { readFileSync } from 'node:fs';

export interface ReplicaRuns {
  /** replica id -> every start seen (more than one means it ran twice). */
  starts: Map<string, { t: number; cluster: string }[]>;
  ends: Map<string, number[]>;
  /** [start ms, end ms, cluster] of each replica's first run. */
  intervals: Array<[number, number, string]>;
}

/** The shell command that records a replica's start and end around `sleep seconds`. */
export function markedRun(marks: string, seconds = 1): string {
  return `echo "$SKYSHIFT_JOB-$SKYSHIFT_REPLICA s $(date +%s%N) $PWD" >> ${marks}; sleep ${seconds}; echo "$SKYSHIFT_JOB-$SKYSHIFT_REPLICA e $(date +%s%N) $PWD" >> ${marks}`;
}

export function readMarks(file: string): ReplicaRuns {
  const starts = new Map<string, { t: number; cluster: string }[]>();
  const ends = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [id, kind, ns, cwd] = line.split(' ');
    if (!id || !kind || !ns) continue;
    const t = Number(BigInt(ns) / 1000n) / 1000; // ms
    const cluster = /\/clusters\/([^/]+)\//.exec(cwd ?? '')?.[1] ?? '?';
    if (kind === 's') starts.set(id, [...(starts.get(id) ?? []), { t, cluster }]);
    else ends.set(id, [...(ends.get(id) ?? []), t]);
  }
  const intervals: Array<[number, number, string]> = [];
  for (const [id, [s]] of starts) {
    const e = ends.get(id)?.[0];
    if (s && e !== undefined) intervals.push([s.t, e, s.cluster]);
  }
  return { starts, ends, intervals };
}
