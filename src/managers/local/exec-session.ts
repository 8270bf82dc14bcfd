/**
 * The process behind a local exec and its streams: plain pipes, or a
 * terminal (node-pty). Where and as whom it runs is exec.ts's business.
 *
 * Decisions:
 * - The command runs in its own process group; abandoning the session (the
 *   client went away, the server is closing) sends the group SIGTERM, then
 *   SIGKILL after KILL_GRACE_MS, so nothing an exec started lingers.
 * - A terminal starts at the client's size. Clients send it right after the
 *   WebSocket opens, which is after exec() returned (the API server starts a
 *   session before the upgrade so that refusals are Statuses), so the pty is
 *   spawned on the first resize, on the first input, or FIRST_SIZE_WAIT_MS
 *   after the output is first read, whichever comes first.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import * as pty from '@lydell/node-pty';
import type { ExecSession } from '../capabilities.js';

const KILL_GRACE_MS = 2_000;
const FIRST_SIZE_WAIT_MS = 1_000;
const DEFAULT_SIZE = { cols: 80, rows: 24 };

export interface Command {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export function pipeSession(cmd: Command, signal: AbortSignal | undefined): ExecSession {
  const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env: cmd.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  // A command that exits without reading its stdin makes our writes fail with EPIPE: not an error of ours.
  child.stdin.on('error', () => undefined);
  const exitCode = new Promise<number>((resolve) => {
    child.once('error', () => resolve(126));
    child.once('exit', (code, sig) => resolve(code ?? 128 + signalNumber(sig)));
  });
  stopOnAbort(signal, exitCode, () => child.pid);
  return {
    stdin: Writable.toWeb(child.stdin) as WritableStream<Uint8Array>,
    stdout: Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>,
    stderr: Readable.toWeb(child.stderr) as ReadableStream<Uint8Array>,
    exitCode,
  };
}

export function ttySession(cmd: Command, signal: AbortSignal | undefined): ExecSession {
  let term: pty.IPty | undefined;
  let size = DEFAULT_SIZE;
  let ended = false;
  let waiting: NodeJS.Timeout | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let settle!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (settle = resolve));
  const close = () => {
    // A cancelled stream (the client went away first) must not be closed again: that throws.
    if (ended) return;
    ended = true;
    controller.close();
  };
  const start = (): pty.IPty | undefined => {
    clearTimeout(waiting);
    if (term || signal?.aborted) return term;
    try {
      term = pty.spawn(cmd.file, cmd.args, { name: cmd.env.TERM ?? 'xterm', cwd: cmd.cwd, env: cmd.env, ...size, encoding: null });
    } catch (err) {
      if (!ended) controller.enqueue(new TextEncoder().encode(`exec: ${err instanceof Error ? err.message : String(err)}\r\n`));
      settle(126);
      return undefined;
    }
    const t = term;
    // encoding: null makes node-pty hand out Buffers, whatever its typings say.
    t.onData((data) => {
      if (ended) return;
      controller.enqueue(new Uint8Array(data as unknown as Buffer));
      if ((controller.desiredSize ?? 1) <= 0) t.pause();
    });
    t.onExit(({ exitCode: code, signal: sig }) => settle(sig ? 128 + sig : code));
    return t;
  };
  void exitCode.then(close);
  // Abandoned before it started: nothing to kill, it never runs.
  if (signal?.aborted) settle(128 + 15);
  else signal?.addEventListener('abort', () => term || settle(128 + 15), { once: true });
  stopOnAbort(signal, exitCode, () => term?.pid);
  const stdout = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (term) term.resume();
        else waiting ??= setTimeout(start, FIRST_SIZE_WAIT_MS);
      },
      cancel() {
        ended = true;
        clearTimeout(waiting);
      },
    },
    // Nothing is read ahead: pull() runs only when the consumer reads, which is what starts the clock above.
    { highWaterMark: 0 },
  );
  return {
    stdin: new WritableStream<Uint8Array>({
      write(chunk) {
        // A terminal has no end of input of its own (^D is a byte the user types), so close is a no-op.
        start()?.write(Buffer.from(chunk) as unknown as string);
      },
    }),
    stdout,
    stderr: new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
    exitCode,
    resize(columns, rows) {
      if (term) return term.resize(columns, rows);
      size = { cols: columns, rows };
      start();
    },
  };
}

/** A session that never ran anything: the message (on stderr, or stdout with a tty) and the exit code. */
export function failedSession(message: string, code: number, tty: boolean): ExecSession {
  const bytes = new TextEncoder().encode(message);
  const once = () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });
  const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  return { stdin: new WritableStream<Uint8Array>(), stdout: tty ? once() : empty(), stderr: tty ? empty() : once(), exitCode: Promise.resolve(code) };
}

/** Kills the command's process group when the session is abandoned before the command ended. */
function stopOnAbort(signal: AbortSignal | undefined, exitCode: Promise<number>, pid: () => number | undefined): void {
  if (!signal) return;
  let done = false;
  void exitCode.then(() => (done = true));
  const stop = () => {
    const p = pid();
    if (done || p === undefined) return;
    kill(-p, 'SIGTERM');
    setTimeout(() => done || kill(-p, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  void exitCode.then(() => signal.removeEventListener('abort', stop));
}

function kill(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    /* already gone */
  }
}

function signalNumber(sig: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return (sig && table[sig]) ?? 0;
}
