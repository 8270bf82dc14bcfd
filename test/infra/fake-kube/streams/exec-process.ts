/**
 * The process of one exec: the command runs on this host with the container's env and cwd, on pipes or, with tty, on a
 * pseudo-terminal (@lydell/node-pty). The runtime's view of it is what the streams need: output, input, resize, exit.
 */
import { spawn as spawnChild } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { spawn as spawnPty } from '@lydell/node-pty';

export interface ProcessOptions {
  command: string[];
  env: Record<string, string>;
  cwd: string;
  tty: boolean;
  stdin: boolean;
  /** The terminal's size at start (tty only), default 80x24. */
  size?: { cols: number; rows: number };
}

export interface ProcessOutput {
  /** Output for channel 1 (stdout, and everything with a tty) or 2 (stderr); return false to be paused until `resume`. */
  output(channel: 1 | 2, data: Buffer): boolean;
  /** The process is gone and its output is read: its exit code (128 + signal when killed). */
  exit(code: number): void;
}

export interface ExecProcess {
  /** Input for the command; false when its pipe is full (`onInputDrain` says when to go on). */
  write(data: Buffer): boolean;
  onInputDrain(cb: () => void): void;
  endStdin(): void;
  resize(cols: number, rows: number): void;
  resumeOutput(): void;
  /** SIGKILLs the command and everything it started (its process group), as a container's end does. */
  kill(): void;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Output still arriving after the process exited (a background child holding the pipe) is cut off after this long. */
const EXIT_GRACE_MS = 2000;

/** The executable a container runtime would run, or the runtime's message when there is none. */
export async function resolveExecutable(file: string, env: Record<string, string>, cwd: string): Promise<{ path: string } | { error: string }> {
  const candidates = file.includes('/') ? [isAbsolute(file) ? file : resolve(cwd, file)] : (env.PATH ?? '').split(delimiter).map((d) => join(d || '.', file));
  for (const candidate of candidates) {
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, fsConstants.X_OK);
      return { path: candidate };
    } catch {
      /* next */
    }
  }
  return { error: `exec: "${file}": ${file.includes('/') ? 'stat ' + file + ': no such file or directory' : 'executable file not found in $PATH'}` };
}

function signalCode(signal: NodeJS.Signals | null | undefined | number): number {
  if (typeof signal === 'number') return 128 + signal;
  return signal ? 128 + (osConstants.signals[signal] ?? 0) : 0;
}

export function startProcess(path: string, opts: ProcessOptions, out: ProcessOutput): ExecProcess {
  return opts.tty ? startPty(path, opts, out) : startPiped(path, opts, out);
}

function startPiped(path: string, opts: ProcessOptions, out: ProcessOutput): ExecProcess {
  const child = spawnChild(path, opts.command.slice(1), {
    argv0: opts.command[0],
    env: opts.env,
    cwd: opts.cwd,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so kill() reaches what it started
  });
  const pipes: [Readable, 1 | 2][] = [
    [child.stdout!, 1],
    [child.stderr!, 2],
  ];
  for (const [pipe, channel] of pipes) {
    pipe.on('data', (chunk: Buffer) => {
      if (!out.output(channel, chunk)) pipe.pause();
    });
    pipe.on('error', () => undefined);
  }
  child.stdin?.on('error', () => undefined); // EPIPE when the command does not read its input
  let done = false;
  const finish = (code: number) => {
    if (done) return;
    done = true;
    out.exit(code);
  };
  child.on('error', () => finish(126));
  child.on('exit', (code, signal) => {
    const result = code ?? signalCode(signal);
    setTimeout(() => {
      for (const [pipe] of pipes) pipe.destroy();
      finish(result);
    }, EXIT_GRACE_MS).unref();
  });
  child.on('close', (code, signal) => finish(code ?? signalCode(signal)));
  return {
    write: (data) => (child.stdin?.writable ? child.stdin.write(data) : true),
    onInputDrain: (cb) => {
      if (child.stdin?.writable) child.stdin.once('drain', cb);
      else cb();
    },
    endStdin: () => child.stdin?.end(),
    resize: () => undefined,
    resumeOutput: () => {
      for (const [pipe] of pipes) pipe.resume();
    },
    kill: () => killGroup(child.pid),
  };
}

function startPty(path: string, opts: ProcessOptions, out: ProcessOutput): ExecProcess {
  const term = spawnPty(path, opts.command.slice(1), {
    name: opts.env.TERM ?? 'xterm',
    cols: opts.size?.cols ?? 80,
    rows: opts.size?.rows ?? 24,
    cwd: opts.cwd,
    env: opts.env,
    encoding: null,
  });
  let exited = false;
  term.onData((data: string | Buffer) => {
    if (!out.output(1, Buffer.isBuffer(data) ? data : Buffer.from(data))) term.pause();
  });
  term.onExit(({ exitCode, signal }) => {
    exited = true;
    out.exit(signal ? signalCode(signal) : exitCode);
  });
  // node-pty writes Buffers as-is; its typings only name strings.
  const write = term.write.bind(term) as (data: string | Buffer) => void;
  return {
    write: (data) => {
      if (!exited) write(data);
      return true;
    },
    onInputDrain: (cb) => cb(),
    // A terminal has no half-close: end of input is the EOF character, as a terminal user types it.
    endStdin: () => {
      if (!exited) write('\x04');
    },
    resize: (cols, rows) => {
      if (!exited) term.resize(cols, rows);
    },
    resumeOutput: () => term.resume(),
    // node-pty's child leads its own session, hence its own process group.
    kill: () => {
      if (!exited) killGroup(term.pid);
    },
  };
}
