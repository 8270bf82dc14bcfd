/**
 * Process spawning and signalling for local replicas. Replicas must outlive
 * SkyShift, so each is started detached (own session and process group), with
 * stdio going to files rather than pipes we would have to keep reading.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { sleep } from '../../lib/index.js';

export interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

/** /proc/<pid>/stat, or undefined if there is no such process. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** procStat for start-up paths that must decide before anything else runs (directory locks). */
export function procStatSync(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseProcStat(text: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and ')', so split after the last ')'; rest[0] is field 3.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const pgrp = rest[2];
  const startTime = rest[19];
  if (state === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { state, pgrp: Number(pgrp), startTime };
}

/**
 * True while the process recorded as (pid, startTime) still runs. A zombie has
 * finished; a different start time means the pid was recycled by another process.
 */
export async function isAlive(pid: number, startTime: string | null | undefined): Promise<boolean> {
  const st = await procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime == null || st.startTime === startTime;
}

/**
 * True while any live process is left in the group (including grandchildren
 * that outlived the leader). Zombies do not count: orphans are reparented to
 * pid 1, which in containers may never reap them, and they run nothing.
 */
export async function groupExists(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // EPERM: the group exists but is not ours; treat as present so we do not claim it is gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = await procStat(Number(e));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') return true;
  }
  return false;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM the whole group, SIGKILL what is left after `graceMs`; resolves once the group is empty (or after a last short wait). */
export async function killGroup(pgid: number, graceMs: number, pollMs = 100): Promise<void> {
  if (!(await groupExists(pgid))) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while ((await groupExists(pgid)) && Date.now() < deadline) await sleep(pollMs);
  if (!(await groupExists(pgid))) return;
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL is delivered asynchronously; wait (bounded) until the group is really gone.
  const hardDeadline = Date.now() + 2000;
  while ((await groupExists(pgid)) && Date.now() < hardDeadline) await sleep(pollMs);
}

/**
 * The wrapper every replica runs under. It records the command's exit code
 * itself, so the code is captured even while SkyShift is down; written via
 * tmp + mv so a reader never sees an empty exitcode file.
 */
export function wrapperScript(innerCommand: string): string {
  return [
    '#!/bin/bash',
    '# Written by SkyShift (local manager). Runs the replica and records its exit code.',
    '# A start retried after a crash may race the original wrapper: only the first to get here runs.',
    'mkdir started 2>/dev/null || exit 0',
    'echo "$$" > pid.tmp && mv -f pid.tmp pid',
    innerCommand,
    'code=$?',
    'echo "$code" > exitcode.tmp && mv -f exitcode.tmp exitcode',
    'exit "$code"',
    '',
  ].join('\n');
}

/** Single-quote for bash. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Start `bash <wrapper>` detached in `cwd` with stdout+stderr appended to
 * `logPath`. Resolves with the pid once the process exists; rejects if it
 * could not be started.
 */
export async function spawnDetached(wrapperPath: string, cwd: string, logPath: string, env: Record<string, string>): Promise<number> {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn('/bin/bash', [wrapperPath], { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    // Node keeps reaping it while we live (no zombies), but must not wait for it.
    child.unref();
    if (child.pid === undefined) throw new Error('spawn returned no pid');
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether process group `pgid` is still the replica's. The leader alive with
 * its recorded start time: yes. Leader gone but the group still has members
 * (grandchildren outliving it): yes, since Linux does not hand out a pid that
 * is still in use as a group id. A different process now holding the pid: no.
 */
export async function ownsGroup(pid: number, pgid: number, startTime: string | null | undefined): Promise<boolean> {
  const st = await procStat(pid);
  if (st && st.state !== 'Z') return startTime == null || st.startTime === startTime;
  return await groupExists(pgid);
}
