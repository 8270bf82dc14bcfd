/**
 * `exec` into a running Slurm task: a job step in the task's own allocation,
 * `srun --jobid=<id> --overlap`, run through the manager's Runner (here, or
 * on the login node over SSH), streamed, never buffered.
 *
 * Decisions:
 * - The step targets the task's own job id (`squeue -o %A` of
 *   `<arrayJobId>_<rank>`): unambiguous for every Slurm that has arrays,
 *   whichever `--jobid` spellings its srun accepts.
 * - `--overlap` shares the task's CPUs instead of waiting for free ones (the
 *   batch step holds them all); `--ntasks=1 --nodes=1` runs one process.
 * - The command is argv all the way: srun gets it after `--`, and over SSH
 *   the Runner single-quotes every word, so nothing is re-parsed by a shell.
 * - The process and its streams are the local manager's exec-session.ts
 *   (pipes, or a local terminal holding `srun --pty` / `ssh -tt`), which also
 *   kills the srun (or ssh) when the session is abandoned; over SSH,
 *   hangupWatchdog() ends the remote srun too.
 * - Both interfaces: `rest` too, as long as the Runner reaches srun (same
 *   host, or `host`); otherwise a 501 naming the cluster.
 */
import { rankOfTask, taskName } from '../../api/index.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import { pipeSession, ttySession } from '../local/exec-session.js';
import type { JobRef, JobTasks } from '../types.js';
import type { Records } from './records.js';
import type { Runner } from './runner.js';

/** Bounds on what a client may ask to run (argv words, total bytes). */
const MAX_ARGS = 1024;
const MAX_COMMAND_BYTES = 64 * 1024;

/** What exec and port-forward need of the manager. */
export interface TaskAccess {
  cluster: string;
  runner: Runner;
  tasks(signal?: AbortSignal): Promise<JobTasks[]>;
  records(): Promise<Records>;
}

export interface RunningTask {
  rank: number;
  /** The task's own Slurm job id (not the array's). */
  jobId: string;
  /** The node it runs on. */
  node: string;
  /** The job's work dir on the Slurm side. */
  dir: string | undefined;
}

/** The task, which must be RUNNING: 501 when srun is out of reach, 404 for an unknown task, 409 for one not running. */
export async function runningTask(access: TaskAccess, job: JobRef, task: string, signal?: AbortSignal): Promise<RunningTask> {
  const id = `${job.namespace}/${job.name}`;
  const notFound = () => new ManagerError('NotFound', `task '${task}' of job '${id}' not found on cluster '${access.cluster}'`);
  const rank = rankOfTask(task);
  if (rank === undefined || taskName(job.name, rank) !== task) throw notFound();
  await requireSrun(access, signal);
  const jt = (await access.tasks(signal)).find((j) => j.uid === job.uid);
  if (!jt || jt.ranks[task] !== rank) throw notFound();
  const notRunning = (state: string) => new ManagerError('Conflict', `task '${task}' of job '${id}' is ${state}, not running`);
  if (jt.tasks[task] !== 'RUNNING') throw notRunning(jt.tasks[task] ?? 'UNKNOWN');
  const record = (await (await access.records()).list(signal)).find((r) => r.uid === job.uid);
  const array = record?.ranks.get(rank) ?? (jt.jobId.includes(',') ? undefined : jt.jobId);
  if (array === undefined || !/^\d+$/.test(array)) throw notFound();
  const out = await access.runner.run(['squeue', '-h', '-j', `${array}_${rank}`, '-o', '%A|%T|%N'], { signal });
  const [jobId = '', state = '', node = ''] = (out.stdout.trim().split('\n')[0] ?? '').split('|');
  // It ended between the two looks (or slurmctld forgot it): not running any more.
  if (out.code !== 0 || !/^\d+$/.test(jobId)) throw notRunning('not listed by Slurm');
  if (state !== 'RUNNING') throw notRunning(state);
  return { rank, jobId, node, dir: record?.dir };
}

export async function execInTask(access: TaskAccess, job: JobRef, options: ExecOptions): Promise<ExecSession> {
  const { command } = options;
  if (!Array.isArray(command) || command.length === 0) throw new ManagerError('BadRequest', 'exec needs a command');
  if (command.length > MAX_ARGS) throw new ManagerError('BadRequest', `exec: at most ${MAX_ARGS} command words`);
  let bytes = 0;
  for (const word of command) {
    if (typeof word !== 'string' || word.includes('\0')) throw new ManagerError('BadRequest', 'exec: command words must be strings without NUL bytes');
    bytes += Buffer.byteLength(word) + 1;
  }
  if (bytes > MAX_COMMAND_BYTES) throw new ManagerError('BadRequest', `exec: the command is over ${MAX_COMMAND_BYTES} bytes`);
  const t = await runningTask(access, job, options.task, options.signal);
  const tty = options.tty === true;
  const argv = [
    'srun',
    `--jobid=${t.jobId}`,
    '--overlap',
    '--ntasks=1',
    '--nodes=1',
    '--quiet',
    ...(t.dir ? [`--chdir=${t.dir}`] : []),
    ...(tty ? ['--pty'] : []),
    '--',
    ...command,
  ];
  const { file, args, env } = access.runner.argv(access.runner.remote ? hangupWatchdog(argv) : argv, { tty });
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  if (tty) clean.TERM ??= 'xterm';
  const cmd = { file, args, cwd: process.cwd(), env: clean };
  return tty ? ttySession(cmd, options.signal) : pipeSession(cmd, options.signal);
}

/** 501 unless the Runner finds srun (a `rest` cluster SkyShift reaches only over HTTP has no way to start a step). */
async function requireSrun(access: TaskAccess, signal?: AbortSignal): Promise<void> {
  let code: number;
  try {
    code = (await access.runner.run(['sh', '-c', 'command -v srun >/dev/null 2>&1'], { signal, timeoutMs: 15_000 })).code;
  } catch (err) {
    throw new ManagerError('ServiceUnavailable', `cluster '${access.cluster}': ${(err as Error).message}`);
  }
  // 255: ssh itself failed (login node unreachable), which is not a missing srun.
  if (code === 255 && access.runner.remote) throw new ManagerError('ServiceUnavailable', `cluster '${access.cluster}': cannot reach ${access.runner.where}`);
  if (code !== 0) {
    throw new ManagerError(
      'NotImplemented',
      `cluster '${access.cluster}' (manager slurm): exec and port-forward need Slurm's commands (srun) on ${access.runner.where}; set config.host to a login node`,
    );
  }
}

/**
 * Over SSH without a terminal, sshd does not signal the command when the
 * client goes away, so an abandoned srun (and its step) would live on. This
 * `sh -c` wrapper runs it in the background with our stdin (saved on fd 3: a
 * background job's stdin is /dev/null otherwise) and stops it once its parent
 * (the sshd session) is gone; otherwise it exits with srun's own code.
 */
export function hangupWatchdog(argv: string[]): string[] {
  const script =
    'exec 3<&0; "$@" <&3 3<&- & p=$!; pp=$PPID; ' +
    'while kill -0 "$p" 2>/dev/null; do kill -0 "$pp" 2>/dev/null || { kill -TERM "$p" 2>/dev/null; break; }; sleep 1; done; wait "$p"';
  return ['sh', '-c', script, 'sh', ...argv];
}
