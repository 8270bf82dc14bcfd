/** Process figures from Linux /proc, steadier than wall-clock rates on shared cores. */
import { readFileSync } from 'node:fs';

/** utime+stime of a process in clock ticks (100 ticks per second). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU milliseconds between two `cpuTicks` readings. */
export const ticksToMs = (ticks: number): number => ticks * 10;
