/**
 * pods/{name}/exec over a channel WebSocket, as the real API server (v1.30+) and kubelet run it: an empty first message
 * on the lowest output channel, stdout/stderr as they come, stdin (v5: half-closed with [255, 0]), resize JSON on
 * channel 4, and last the Status on channel 3 (v4/v5: JSON; older protocols: the failure's text), then a normal close.
 */
import { ChannelConn } from './channels.js';
import { resolveExecutable, startProcess, type ExecProcess } from './exec-process.js';
import { pickContainer, queryBool, type StreamTarget } from './request.js';
import { badRequest, execExitCode, execSuccess, internalError, type Status } from './status.js';
import type { StreamPod } from './types.js';
import type { WebSocket } from 'ws';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io', ''];

export interface ExecOptions {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const MAX_ARGS = 4096;
const MAX_COMMAND_BYTES = 256 * 1024;
const MAX_RESIZE_MESSAGE = 1024;
const MAX_EARLY_INPUT = 8 << 20;

/** The query of an exec request, checked as the API server checks PodExecOptions; a 400 Status when it is not valid. */
export function parseExecOptions(target: StreamTarget, pod: StreamPod): { opts: ExecOptions } | { status: Status } {
  const { query } = target;
  const flags: Record<'stdin' | 'stdout' | 'stderr' | 'tty', boolean> = { stdin: false, stdout: false, stderr: false, tty: false };
  for (const key of ['stdin', 'stdout', 'stderr', 'tty'] as const) {
    const value = queryBool(query, key);
    if (value === undefined) return { status: badRequest(`strconv.ParseBool: parsing "${query.get(key)}": invalid syntax`) };
    flags[key] = value;
  }
  const command = query.getAll('command');
  if (command.length === 0 || command[0] === '') return { status: badRequest('you must specify at least one command for the container') };
  if (command.length > MAX_ARGS || command.reduce((n, a) => n + a.length, 0) > MAX_COMMAND_BYTES || command.some((a) => a.includes('\0'))) {
    return { status: badRequest('command is too long or holds a NUL byte') };
  }
  if (!flags.stdin && !flags.stdout && !flags.stderr) return { status: badRequest('you must specify at least 1 of stdin, stdout, stderr') };
  const picked = pickContainer(pod, target.name, query.get('container'));
  if ('status' in picked) return picked;
  // The kubelet drops stderr with a tty: a terminal has one output.
  return { opts: { command, container: picked.container, ...flags, stderr: flags.stderr && !flags.tty } };
}

function parseResize(data: Buffer): { cols: number; rows: number } | undefined {
  if (data.length > MAX_RESIZE_MESSAGE) return undefined;
  try {
    const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const cols = Number(size.Width);
    const rows = Number(size.Height);
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 10_000 || rows > 10_000) return undefined;
    return { cols, rows };
  } catch {
    return undefined;
  }
}

/** Runs one exec session on an upgraded WebSocket. */
export function runExec(ws: WebSocket, protocol: string, pod: StreamPod, opts: ExecOptions): void {
  let proc: ExecProcess | undefined;
  let finished = false;
  /** Input (and its half-close) that came before the process started: handed over once it has. */
  const early: Buffer[] = [];
  let earlyBytes = 0;
  let stdinClosed = false;
  const conn = new ChannelConn(ws, protocol, {
    data(channel, data) {
      if (!proc) {
        if (channel !== 0 || !opts.stdin) return;
        earlyBytes += data.length;
        if (earlyBytes > MAX_EARLY_INPUT) ws.terminate();
        else early.push(data);
        return;
      }
      if (channel === 0 && opts.stdin) {
        if (!proc.write(data)) {
          ws.pause();
          proc.onInputDrain(() => ws.resume());
        }
      } else if (channel === 4) {
        const size = parseResize(data);
        if (size) proc.resize(size.cols, size.rows);
      }
    },
    close(channel) {
      if (channel !== 0) return;
      stdinClosed = true;
      proc?.endStdin();
    },
    end() {
      // The client went away: nothing can read the command's output any more.
      if (!finished) proc?.kill();
    },
  });
  const json = protocol.startsWith('v4.') || protocol.startsWith('v5.');
  const finish = (status: Status) => {
    if (finished) return;
    finished = true;
    if (json) conn.send(3, Buffer.from(JSON.stringify(status)));
    else if (status.status === 'Failure') conn.send(3, Buffer.from(status.message ?? ''));
    conn.close();
  };

  // Tells the client the streams are up (createWebSocketStreams).
  conn.send(opts.stdout ? 1 : opts.stderr ? 2 : 3, Buffer.alloc(0));

  if (pod.phase !== 'Running') {
    finish(internalError(`unable to upgrade connection: container not found ("${opts.container}")`));
    return;
  }
  const env = { ...pod.env, PATH: pod.env.PATH ?? process.env.PATH ?? '/usr/bin:/bin' };
  void resolveExecutable(opts.command[0]!, env, pod.cwd).then((exe) => {
    if (!conn.isOpen) return;
    if ('error' in exe) {
      finish(
        internalError(
          `error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: ${exe.error}: unknown`,
        ),
      );
      return;
    }
    proc = startProcess(
      exe.path,
      { command: opts.command, env, cwd: pod.cwd, tty: opts.tty, stdin: opts.stdin },
      {
        output(channel, data) {
          if ((channel === 1 && !opts.stdout) || (channel === 2 && !opts.stderr)) return true;
          if (conn.send(channel, data)) return true;
          void conn.drained().then(() => proc?.resumeOutput());
          return false;
        },
        exit(code) {
          finish(code === 0 ? execSuccess() : execExitCode(code));
        },
      },
    );
    for (const chunk of early.splice(0)) proc.write(chunk);
    if (stdinClosed) proc.endStdin();
  });
}
