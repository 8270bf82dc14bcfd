/**
 * One exec, whatever carries it (channel WebSocket or SPDY streams): the container must be running, the command must
 * exist (else the runtime's error), then the process runs with the pod's env and cwd and its end becomes a Status.
 */
import { resolveExecutable, startProcess, type ExecProcess } from './exec-process.js';
import type { ExecOptions } from './exec-options.js';
import { execExitCode, execSuccess, internalError, type Status } from './status.js';
import type { StreamPod } from './types.js';

export interface ExecSink {
  /** Output on channel 1 (stdout) or 2 (stderr); false when the transport is full (`drained` says when to go on). */
  output(channel: 1 | 2, data: Buffer): boolean;
  drained(): Promise<void>;
  /** The session is over: report `status` and end the transport. Called once. */
  finish(status: Status): void;
  /** Stops reading client input until `resume` (the command's input pipe is full). */
  pauseInput(): void;
  resumeInput(): void;
}

export interface ExecSession {
  input(data: Buffer): void;
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** The client went away: the process is killed, no Status is sent. */
  abort(): void;
}

/** Input that arrives before the process has started is kept (this much at most) and handed over once it has. */
const MAX_EARLY_INPUT = 8 << 20;
/**
 * With a tty the client sends the terminal's size right after the upgrade; the command starts with it (or 80x24 after
 * this long), so `stty size` in it answers the client's size as a runtime that applies it at creation does.
 */
const FIRST_SIZE_WAIT_MS = 500;

/** How often a running exec checks that its pod still runs. */
const POD_CHECK_MS = 500;

/**
 * `stillRunning` is asked while the command runs: once the pod is gone or no longer Running, the command is killed
 * (exit 137), as everything in a container dies with it.
 */
export function startExecSession(pod: StreamPod, opts: ExecOptions, sink: ExecSink, stillRunning: () => boolean = () => true): ExecSession {
  let proc: ExecProcess | undefined;
  let over = false;
  const early: Buffer[] = [];
  let earlyBytes = 0;
  let inputEnded = false;
  let size: { cols: number; rows: number } | undefined;
  let sizeArrived: () => void = () => undefined;
  const firstSize = opts.tty ? new Promise<void>((resolve) => ((sizeArrived = resolve), setTimeout(resolve, FIRST_SIZE_WAIT_MS).unref())) : Promise.resolve();
  let podCheck: NodeJS.Timeout | undefined;
  const finish = (status: Status) => {
    clearInterval(podCheck);
    if (over) return;
    over = true;
    sink.finish(status);
  };

  if (pod.phase !== 'Running') {
    finish(internalError(`unable to upgrade connection: container not found ("${opts.container}")`));
  } else {
    // The container's PATH comes from its image; a fake pod without one gets the host's.
    const env = { ...pod.env, PATH: pod.env.PATH ?? process.env.PATH ?? '/usr/bin:/bin' };
    void Promise.all([resolveExecutable(opts.command[0]!, env, pod.cwd), firstSize]).then(([exe]) => {
      if (over) return;
      if ('error' in exe) {
        const runtime = `OCI runtime exec failed: exec failed: unable to start container process: ${exe.error}: unknown`;
        finish(internalError(`error executing command in container: failed to exec in container: ${runtime}`));
        return;
      }
      proc = startProcess(
        exe.path,
        { command: opts.command, env, cwd: pod.cwd, tty: opts.tty, stdin: opts.stdin, ...(size ? { size } : {}) },
        {
          output(channel, data) {
            if ((channel === 1 && !opts.stdout) || (channel === 2 && !opts.stderr)) return true;
            if (sink.output(channel, data)) return true;
            void sink.drained().then(() => proc?.resumeOutput());
            return false;
          },
          exit: (code) => finish(code === 0 ? execSuccess() : execExitCode(code)),
        },
      );
      podCheck = setInterval(() => {
        if (!stillRunning()) proc?.kill();
      }, POD_CHECK_MS);
      for (const chunk of early.splice(0)) proc.write(chunk);
      if (inputEnded) proc.endStdin();
    });
  }

  return {
    input(data) {
      if (!opts.stdin || over) return;
      if (!proc) {
        earlyBytes += data.length;
        if (earlyBytes > MAX_EARLY_INPUT) finish(internalError('more input than the fake keeps before the command starts'));
        else early.push(data);
        return;
      }
      if (!proc.write(data)) {
        sink.pauseInput();
        proc.onInputDrain(() => sink.resumeInput());
      }
    },
    endInput() {
      inputEnded = true;
      proc?.endStdin();
    },
    resize(cols, rows) {
      if (proc) proc.resize(cols, rows);
      else size = { cols, rows };
      sizeArrived();
    },
    abort() {
      clearInterval(podCheck);
      over = true;
      proc?.kill();
    },
  };
}
