/**
 * `exec` on a local replica (DESIGN sections 8, 14, 17): the command runs in
 * the replica's work dir with the replica's own identity and environment,
 * never SkyShift's.
 *
 * Decisions:
 * - Environment: the replica wrapper's own (/proc/<pid>/environ), which
 *   launch.ts built from nothing (safe PATH, HOME = the work dir, the job's
 *   variables). If it cannot be read, a fresh replica-style environment
 *   without the job's own variables; never this process's.
 * - Identity: as the replica (setpriv to the runAs user when SkyShift is
 *   root, exactly as launch.ts starts the replica).
 * - The command is looked up on the replica's PATH here; a missing one ends
 *   the session with exit code 127 and the shell's kind of message, as a
 *   failed exec in a container does.
 * - The command runs in its own process group; ending the session (client
 *   gone, server closing) kills the group, so nothing an exec started lingers.
 * - With `runtime: podman` the replica's container is entered with
 *   `podman exec`, which keeps the container's own user and environment.
 */
import { spawn } from 'node:child_process';
import { readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as pty from '@lydell/node-pty';
import { rankOfTask, taskName } from '../../api/index.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import type { JobRef } from '../types.js';
import { replicaEnvironment, SAFE_PATH, type RunAs } from './identity.js';
import { storageArgs, which, type PodmanStorage } from './podman.js';
import { FILES, readJson, readText, type JobStore, type ReplicaRecord } from './records.js';

/** What exec and port-forward need of the manager: where a task's replica is and whether it runs. */
export interface ReplicaAccess {
  cluster: string;
  store: JobStore;
  /** The replica's state as the manager sees it (RUNNING, PENDING, COMPLETED ...). */
  state(job: JobRef, rank: number): Promise<string>;
  runAs(): Promise<RunAs>;
  podman: PodmanStorage;
}

export interface RunningReplica {
  rank: number;
  dir: string;
  record: ReplicaRecord | undefined;
}

/** The task's replica on this cluster, which must be RUNNING: 404 for an unknown task, 409 for one not running. */
export async function runningReplica(access: ReplicaAccess, job: JobRef, task: string): Promise<RunningReplica> {
  const rank = rankOfTask(task);
  const id = `${job.namespace}/${job.name}`;
  if (rank === undefined || taskName(job.name, rank) !== task || !(await access.store.listRanks(access.store.jobDir(job))).includes(rank)) {
    throw new ManagerError('NotFound', `task '${task}' of job '${id}' not found on cluster '${access.cluster}'`);
  }
  const state = await access.state(job, rank);
  if (state !== 'RUNNING') throw new ManagerError('Conflict', `task '${task}' of job '${id}' is ${state}, not running`);
  const dir = access.store.rankDir(job, rank);
  return { rank, dir, record: await readJson<ReplicaRecord>(join(dir, FILES.record)) };
}

/** How long a killed exec gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
const DEFAULT_SIZE = { cols: 80, rows: 24 };

export async function execInReplica(access: ReplicaAccess, job: JobRef, options: ExecOptions): Promise<ExecSession> {
  if (options.command.length === 0) throw new ManagerError('BadRequest', 'exec needs a command');
  const replica = await runningReplica(access, job, options.task);
  const command = options.command[0]!;
  let argv: string[];
  let env: Record<string, string>;
  let cwd: string;
  if (replica.record?.container) {
    // The podman client's own environment (how this host's podman is set up); the container keeps its own.
    env = podmanClientEnv();
    cwd = replica.dir;
    const flags = ['-i', ...(options.tty ? ['-t'] : [])];
    argv = ['podman', ...storageArgs(access.podman), 'exec', ...flags, '--workdir', '/workdir', replica.record.container, ...options.command];
  } else {
    const runAs = await access.runAs();
    cwd = join(replica.dir, FILES.work);
    env = (await wrapperEnvironment(replica.dir)) ?? replicaEnvironment(runAs, cwd, fallbackJobEnv(job, replica.rank));
    // Looked up as the replica's shell would (its PATH), so a typo reads like one.
    if (!command.includes('/') && (await which(command, env.PATH ?? '')) === undefined) {
      return failed(`exec: "${command}": executable file not found in $PATH\n`, 127, options.tty === true);
    }
    argv = [...dropTo(runAs), ...options.command];
  }
  if (options.tty) env.TERM ??= 'xterm';
  // Our own helpers (setpriv, podman) come from the system PATH whatever the job set.
  const program = argv[0]!.includes('/') ? argv[0]! : ((await which(argv[0]!, env.PATH ?? '')) ?? (await which(argv[0]!, SAFE_PATH)) ?? argv[0]!);
  return options.tty ? ttySession(program, argv.slice(1), cwd, env, options.signal) : pipeSession(program, argv.slice(1), cwd, env, options.signal);
}

function pipeSession(file: string, args: string[], cwd: string, env: Record<string, string>, signal: AbortSignal | undefined): ExecSession {
  const child = spawn(file, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
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

function ttySession(file: string, args: string[], cwd: string, env: Record<string, string>, signal: AbortSignal | undefined): ExecSession {
  const term = pty.spawn(file, args, { name: env.TERM ?? 'xterm', cwd, env, ...DEFAULT_SIZE, encoding: null });
  const exitCode = new Promise<number>((resolve) => term.onExit(({ exitCode: code, signal: sig }) => resolve(sig ? 128 + sig : code)));
  let ended = false;
  const stdout = new ReadableStream<Uint8Array>({
    start(controller) {
      // encoding: null makes node-pty hand out Buffers, whatever its typings say.
      term.onData((data) => {
        if (ended) return;
        controller.enqueue(new Uint8Array(data as unknown as Buffer));
        if ((controller.desiredSize ?? 1) <= 0) term.pause();
      });
      void exitCode.then(() => {
        // A cancelled stream (the client went away first) must not be closed again: that throws.
        if (ended) return;
        ended = true;
        controller.close();
      });
    },
    pull() {
      term.resume();
    },
    cancel() {
      ended = true;
    },
  });
  stopOnAbort(signal, exitCode, () => term.pid);
  return {
    stdin: new WritableStream<Uint8Array>({
      write(chunk) {
        // A terminal has no end of input of its own (^D is a byte the user types), so close is a no-op.
        term.write(Buffer.from(chunk) as unknown as string);
      },
    }),
    stdout,
    stderr: new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
    exitCode,
    resize(columns, rows) {
      term.resize(columns, rows);
    },
  };
}

/** A session that never ran anything: the message (on stderr, or stdout with a tty) and the exit code. */
function failed(message: string, code: number, tty: boolean): ExecSession {
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

/** The argv prefix that runs as the replica user (as launch.ts does through dropPrivileges). */
function dropTo(runAs: RunAs): string[] {
  if (!runAs.drop) return [];
  return ['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--no-new-privs', '--'];
}

/** The environment the replica's wrapper was started with, or undefined when it cannot be read. */
async function wrapperEnvironment(dir: string): Promise<Record<string, string> | undefined> {
  const pid = Number((await readText(join(dir, FILES.pid)))?.trim() ?? NaN);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let raw: string;
  try {
    // Only the wrapper itself (which runs in the rank dir): a recycled pid must not lend us another process's environment.
    if ((await readlink(`/proc/${pid}/cwd`)) !== (await realpath(dir))) return undefined;
    raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return Object.keys(env).length > 0 ? env : undefined;
}

function fallbackJobEnv(job: JobRef, rank: number): Record<string, string> {
  return { SKYSHIFT_JOB: `${job.namespace}/${job.name}`, SKYSHIFT_JOB_UID: job.uid, SKYSHIFT_REPLICA: String(rank), POD_RANK: String(rank) };
}

/** What the podman client needs of this host's environment (launch.ts passes the same to `podman run`). */
function podmanClientEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'XDG_RUNTIME_DIR', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
