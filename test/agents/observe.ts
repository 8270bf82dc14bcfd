/** What the agents' e2e tests read back: capacity, task placement, marker lines, listening sockets. */
import { readFileSync } from 'node:fs';
import type { Obj } from '../infra/skyshift.js';

/** Sum of one resource over a cluster's nodes in status.capacity ({node: {cpus, memory, ...}}). */
export function capacityOf(cluster: Obj, resource: string): number {
  let n = 0;
  for (const node of Object.values((cluster.status?.capacity ?? {}) as Record<string, Record<string, number>>)) n += node[resource] ?? 0;
  return n;
}

/** task name -> the cluster whose taskStatus shows it in `state`. */
export function tasksIn(job: Obj, state = 'RUNNING'): Map<string, string> {
  const out = new Map<string, string>();
  for (const [cluster, tasks] of Object.entries((job.status?.taskStatus ?? {}) as Record<string, Record<string, string>>)) {
    for (const [task, s] of Object.entries(tasks)) if (s === state) out.set(task, cluster);
  }
  return out;
}

/** Number of tasks in `state` per rank (the task name ends in -<rank>). */
export function ranksIn(job: Obj, state = 'RUNNING'): Map<number, number> {
  const out = new Map<number, number>();
  for (const [cluster, tasks] of Object.entries((job.status?.taskStatus ?? {}) as Record<string, Record<string, string>>)) {
    void cluster;
    for (const [task, s] of Object.entries(tasks)) {
      const rank = Number(/-(\d+)$/.exec(task)?.[1]);
      if (s === state && Number.isInteger(rank)) out.set(rank, (out.get(rank) ?? 0) + 1);
    }
  }
  return out;
}

export interface Mark {
  kind: string;
  rank: number;
  /** The agent host whose work dir the replica ran in (from its $PWD), or '?' */
  host: string;
  pid: number;
  /** ms since the epoch, the replica's clock (the same machine as the test's). */
  at: number;
}

/**
 * The shell a replica runs to leave marks: `start` once, then a `tick` every
 * 200 ms, each `<kind> <rank> <pwd> <pid> <epoch ms>`. Namespaces share the
 * filesystem, so every host appends to the same file.
 */
export function markingRun(file: string, extra = ''): string {
  const mark = (kind: string) => `echo "${kind} $SKYSHIFT_REPLICA $PWD $$ $(date +%s%3N)" >> ${file}`;
  return `${extra}${mark('start')}; while true; do ${mark('tick')}; sleep 0.2; done`;
}

/** Parse the marks; `hosts` maps a work dir prefix to its host name. */
export function readMarks(file: string, workdirs: Record<string, string>): Mark[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Mark[] = [];
  for (const line of text.split('\n')) {
    const [kind, rank, pwd, pid, at] = line.trim().split(' ');
    if (!kind || !pwd) continue;
    const host = Object.entries(workdirs).find(([, w]) => pwd === w || pwd.startsWith(w + '/'))?.[0] ?? '?';
    out.push({ kind, rank: Number(rank), host, pid: Number(pid), at: Number(at) });
  }
  return out;
}

/** Listening TCP sockets (address:port) in /proc/net/tcp{,6} text, excluding loopback. */
export function nonLoopbackListeners(procNetTcp: string): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A' || !f[1]) continue; // 0A = LISTEN
    const [hex, portHex] = f[1].split(':');
    if (!hex || !portHex) continue;
    const port = parseInt(portHex, 16);
    if (hex.length === 8) {
      const ip = [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
      if (!ip.startsWith('127.')) out.push(`${ip}:${port}`);
    } else if (hex !== '00000000000000000000000001000000') {
      out.push(`[${hex}]:${port}`);
    }
  }
  return out;
}
