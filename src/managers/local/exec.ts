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
 * - The process and its streams (pipes or a terminal, killed when the
 *   session is abandoned) are exec-session.ts's.
 * - With `runtime: podman` the replica's container is entered with
 *   `podman exec`, which keeps the container's own user and environment.
 */
import { readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { rankOfTask, taskName } from '../../api/index.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import { failedSession, pipeSession, ttySession } from './exec-session.js';
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
      return failedSession(`exec: "${command}": executable file not found in $PATH\n`, 127, options.tty === true);
    }
    argv = [...dropTo(runAs), ...options.command];
  }
  if (options.tty) env.TERM ??= 'xterm';
  // Our own helpers (setpriv, podman) come from the system PATH whatever the job set.
  const program = argv[0]!.includes('/') ? argv[0]! : ((await which(argv[0]!, env.PATH ?? '')) ?? (await which(argv[0]!, SAFE_PATH)) ?? argv[0]!);
  const cmd = { file: program, args: argv.slice(1), cwd, env };
  return options.tty ? ttySession(cmd, options.signal) : pipeSession(cmd, options.signal);
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
