/**
 * `skyctl exec JOB [--task T] [-i] [-t] -- CMD ARGS...`: a command in one of
 * the job's tasks through the API server's exec route (WebSocket), like
 * `kubectl exec`. skyctl exits with the command's exit code.
 *
 * Decisions (kubectl's): without --task the server takes the first task and
 * skyctl says so on stderr when the job has several; `-t` without a terminal
 * on stdin is dropped with a warning; with a terminal, stdin is put in raw
 * mode (Ctrl-C goes to the remote command) and size changes are sent.
 */
import type { Command } from 'commander';
import type { ReadStream } from 'node:tty';
import { loadStreams, type ExecConnection } from '../../client/core.js';
import { jobNameArg } from '../resource-args.js';
import { CommandExit, UsageError, connect, optionsOf, tlsOf, type Io } from '../runtime.js';

export { CommandExit };

export function registerExec(program: Command, io: Io, addGlobals: (c: Command) => Command): void {
  addGlobals(
    program
      .command('exec')
      .description("Run a command in a task of a running job (exit code: the command's)")
      .argument('<job>', 'job name, or job/NAME')
      .argument('<command...>', 'the command and its arguments, after --')
      .option('--task <task>', "the task (replica) to run in, e.g. hello-2 (default: the job's first)")
      .option('-i, --stdin', "pass skyctl's stdin to the command")
      .option('-t, --tty', 'allocate a terminal (needs a terminal on stdin)')
      .addHelpText(
        'after',
        `
Examples:
  skyctl exec hello -- hostname
  skyctl exec hello --task hello-2 -- sh -c 'echo $SKYSHIFT_REPLICA'
  skyctl exec train -n ml -it -- bash
  echo data | skyctl exec hello -i -- wc -c`,
      ),
  ).action(async (job: string, command: string[], _o: unknown, cmd: Command) => {
    const o = optionsOf(cmd);
    if (command.length === 0 || command[0] === '') throw new UsageError('exec needs a command after --, e.g. skyctl exec hello -- hostname');
    const stdin = io.stdin as Partial<ReadStream> & NodeJS.ReadableStream;
    let tty = o.tty === true;
    if (tty && stdin.isTTY !== true) {
      io.stderr.write('Unable to use a TTY - input is not a terminal\n');
      tty = false;
    }
    const interactive = o.stdin === true;
    const session = connect(cmd, io);
    const out = process.stdout;
    const { openExec } = await loadStreams();
    const exec = await openExec(
      { server: session.connection.server, token: session.connection.token, tls: tlsOf(session.connection) },
      { namespace: session.namespace, job: jobNameArg(job, 'exec'), task: typeof o.task === 'string' ? o.task : undefined, command, tty, stdin: interactive },
      {
        // Bytes as they come: output may be binary. (io.stdout's type says text; process streams take Buffers.)
        stdout: (chunk) => io.stdout.write(chunk as unknown as string) !== false,
        stderr: (chunk) => io.stderr.write(chunk as unknown as string) !== false,
        onDrain: (resume) => (io.stdout === out ? out.once('drain', resume) : resume()),
      },
    );
    if (typeof o.task !== 'string' && exec.tasks > 1) io.stderr.write(`Defaulted task "${exec.task}" (the first of ${exec.tasks}; choose one with --task)\n`);
    const stop = attach(exec, io, stdin, { tty, interactive });
    const onAbort = () => exec.close();
    io.signal.addEventListener('abort', onAbort, { once: true });
    let code: number;
    try {
      code = await exec.exitCode;
    } catch (err) {
      if (io.signal.aborted) throw new CommandExit(130);
      throw err;
    } finally {
      stop();
      io.signal.removeEventListener('abort', onAbort);
    }
    if (code !== 0) throw new CommandExit(code);
  });
}

/** Wires stdin (and the terminal) to the session; returns what undoes it. */
function attach(exec: ExecConnection, io: Io, stdin: Partial<ReadStream> & NodeJS.ReadableStream, mode: { tty: boolean; interactive: boolean }): () => void {
  const undo: Array<() => void> = [];
  if (mode.tty && typeof stdin.setRawMode === 'function') {
    stdin.setRawMode(true);
    undo.push(() => stdin.setRawMode?.(false));
    const size = () => {
      const { columns, rows } = process.stdout;
      if (columns && rows) exec.resize(columns, rows);
    };
    size();
    process.stdout.on('resize', size);
    undo.push(() => process.stdout.off('resize', size));
  }
  if (mode.interactive) {
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      stdin.pause();
      void exec.write(data).then(() => stdin.resume());
    };
    const onEnd = () => exec.closeStdin();
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
    undo.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    });
  }
  // Our handle on stdin must not keep skyctl alive after the command ended.
  return () => undo.forEach((fn) => fn());
}
