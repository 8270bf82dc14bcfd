/**
 * The `slurm` manager: a SkyShift cluster backed by a real Slurm, driven
 * through its commands (locally or over SSH) or through slurmrestd.
 *
 * Decisions:
 * - One job array per submit, array index = rank (see script.ts).
 * - The source of truth for "which Slurm jobs are SkyShift's" is the record
 *   dir on the Slurm side (records.ts), backed up by the job comment
 *   `skyshift@<owner>:<uid>:<ns>/<name>` for the window between sbatch and the
 *   record write: a job found by comment is adopted, never submitted twice.
 * - Ownership: `<owner>` is this SkyShift cluster (name + Cluster uid). Several
 *   SkyShift clusters may share one Slurm (and one SkyShift job may have
 *   replicas on two of them), so every look at Slurm's job list keeps only jobs
 *   carrying our owner; a job without it (another cluster's, a user's own, or
 *   one from before comments carried an owner) is never listed, adopted or
 *   cancelled by comment. Ids from our own records stay ours.
 * - Task state: slurmctld's view while it remembers the task (squeue --states=all
 *   / REST /jobs, MinJobAge after the end), then the exit file the script wrote.
 *   Neither needs accounting storage (slurmdbd), which many sites do not give
 *   to their users; a rank with neither is FAILED (lost with its node).
 * - Files (scripts, records, outputs) go through the Runner in both
 *   interfaces: slurmrestd has no file API, so with `rest` the workdir must be
 *   reachable from SkyShift (same host / shared filesystem, or `host` for SSH).
 */
import { homedir } from 'node:os';
import { ManagerError } from '../errors.js';
import { taskName, type Job } from '../../api/index.js';
import { sleep } from '../../lib/index.js';
import { submittedJobRef } from '../job-ref.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import type { ClusterManager, ClusterState, JobRef, JobShare, JobTasks, LogOptions, TaskState } from '../types.js';
import type { SlurmBackend, SlurmTask } from './backend.js';
import { SlurmCli } from './cli.js';
import { execInTask, type TaskAccess } from './exec.js';
import { forwardToTask } from './portforward.js';
import { nodeResources, parseGpuGres } from './nodes.js';
import { Records, type JobRecord } from './records.js';
import { SlurmRest } from './rest.js';
import { Runner, stdinWatchdog } from './runner.js';
import { clusterOwner, parseComment, renderScript, resourceRequest, slurmComment, slurmJobName, type Runtime } from './script.js';
import { isTerminal, taskState } from './states.js';

export interface SlurmManagerConfig {
  /** Cluster name. */
  name: string;
  /** The Cluster object's uid: with the name, the owner mark on every Slurm job (see clusterOwner). */
  clusterUid?: string;
  interface: 'cli' | 'rest';
  /** Login node for SSH (cli commands; files for both interfaces). Unset: this host. */
  host?: string;
  user?: string;
  sshKey?: string;
  port?: number;
  /** known_hosts for ssh; new hosts are accepted on first use (StrictHostKeyChecking=accept-new). */
  knownHostsFile?: string;
  /** slurmrestd base URL (rest). */
  url?: string;
  /** File holding the JWT (rest); re-read on every request so a rotated token is picked up. */
  tokenFile?: string;
  /** Where scripts, records and outputs go on the Slurm side. Default ~/.skyshift/slurm/<cluster> there. */
  workdir?: string;
  partition?: string;
  /** Environment for Slurm commands, e.g. {SLURM_CONF: ...}. */
  env?: Record<string, string>;
  /** How to run images: podman, apptainer, singularity, none; default: detected on the Slurm side. */
  runtime?: Runtime;
  /** Log follow poll interval for task state. Default 1000 ms. */
  pollMs?: number;
}

const RUNTIMES: Runtime[] = ['podman', 'apptainer', 'singularity', 'none'];
/** How long a followed replica Slurm has never listed may stay unlisted before the follow ends (see waitFinished). */
const UNSEEN_GRACE_MS = 60_000;

export class SlurmManager implements ClusterManager {
  readonly type = 'slurm';
  readonly name: string;
  private readonly runner: Runner;
  private readonly backend: SlurmBackend;
  private records: Records | undefined;
  private runtime: Runtime | undefined;
  /** Marks our Slurm jobs (comment) and our records (job.json). */
  private readonly owner: string;

  constructor(private readonly config: SlurmManagerConfig) {
    if (!config.name) throw new Error('slurm manager: config.name (the cluster name) is required');
    if (config.interface !== 'cli' && config.interface !== 'rest') {
      throw new ManagerError('Invalid', `cluster '${config.name}': config.interface must be 'cli' or 'rest', got ${JSON.stringify(config.interface)}`);
    }
    if (config.runtime !== undefined && !RUNTIMES.includes(config.runtime)) {
      throw new ManagerError('Invalid', `cluster '${config.name}': unsupported runtime '${String(config.runtime)}' (supported: ${RUNTIMES.join(', ')})`);
    }
    this.name = config.name;
    this.owner = clusterOwner(config.name, config.clusterUid);
    this.runner = new Runner({
      host: config.host,
      user: config.user,
      port: config.port,
      sshKey: config.sshKey,
      knownHostsFile: config.knownHostsFile,
      env: config.env,
    });
    if (config.interface === 'rest') {
      if (!config.url)
        throw new ManagerError('Invalid', `cluster '${config.name}': interface 'rest' needs config.url (slurmrestd, e.g. http://127.0.0.1:6820)`);
      if (!config.tokenFile)
        throw new ManagerError('Invalid', `cluster '${config.name}': interface 'rest' needs config.tokenFile (a JWT from 'scontrol token')`);
      this.backend = new SlurmRest({ url: config.url, user: config.user ?? process.env['USER'] ?? 'root', tokenFile: config.tokenFile });
    } else {
      this.backend = new SlurmCli(this.runner);
    }
  }

  async connect(signal?: AbortSignal): Promise<void> {
    try {
      await this.backend.nodes(signal);
      await this.workdir();
      await this.detectRuntime();
    } catch (err) {
      throw new ManagerError('ServiceUnavailable', `cluster '${this.name}': ${(err as Error).message}`);
    }
  }

  async status(signal?: AbortSignal): Promise<ClusterState> {
    try {
      const nodes = await this.backend.nodes(signal);
      const { capacity, allocatable, unavailable } = nodeResources(nodes);
      const state: ClusterState = { phase: 'READY', capacity, allocatable, runtime: await this.detectRuntime() };
      if (unavailable.length > 0) state.message = `unavailable nodes (not counted): ${unavailable.join(', ')}`;
      if (nodes.length > 0 && Object.keys(capacity).length === 0) {
        return { ...state, phase: 'ERROR', message: `cluster '${this.name}': no Slurm node can take work: ${unavailable.join(', ')}` };
      }
      return state;
    } catch (err) {
      return { phase: 'ERROR', message: `cluster '${this.name}': Slurm unreachable: ${(err as Error).message}`, capacity: {}, allocatable: {} };
    }
  }

  async submit(job: Job, share: JobShare): Promise<string> {
    const ref = submittedJobRef(job);
    for (const rank of share.ranks) {
      if (!Number.isInteger(rank) || rank < 0) throw new ManagerError('BadRequest', `job '${ref.namespace}/${ref.name}': invalid rank ${rank}`);
    }
    const records = await this.workdir();
    const dir = await records.ensure(ref);
    const record = (await records.list()).find((r) => r.uid === ref.uid);
    const covered = new Map<number, string>(record?.ranks ?? []);
    // Adopt submissions that reached Slurm but not the record (crash between sbatch and the write).
    const adopted = new Map<string, number[]>();
    for (const t of await this.ownJobs()) {
      if (parseComment(t.comment)?.uid !== ref.uid || t.taskId === undefined || covered.has(t.taskId)) continue;
      // Only live work is adopted: a finished or cancelled Slurm job of this uid (an earlier, cancelled placement) is history.
      if (isTerminal(taskState(t.state))) continue;
      covered.set(t.taskId, t.arrayJobId);
      adopted.set(t.arrayJobId, [...(adopted.get(t.arrayJobId) ?? []), t.taskId]);
    }
    for (const [id, ranks] of adopted) await records.addSubmission(ref, id, ranks);

    const missing = [...new Set(share.ranks)].filter((r) => !covered.has(r));
    if (missing.length > 0) {
      const runtime = await this.detectRuntime();
      const gpuTypes = [...new Set((await this.backend.nodes()).flatMap((n) => [...parseGpuGres(n.gres).keys()]).filter((t) => t !== ''))];
      let req;
      let script;
      try {
        req = resourceRequest(job.spec.resources ?? {}, gpuTypes);
        script = renderScript({ job, dir, runtime, replicas: job.spec.replicas ?? share.ranks.length });
      } catch (err) {
        throw new ManagerError('BadRequest', `job '${ref.namespace}/${ref.name}': ${(err as Error).message}`);
      }
      const scriptPath = `${dir}/script-${missing.join('_').slice(0, 100)}.sh`;
      await records.writeFile(scriptPath, script, '0755');
      const id = await this.backend.submit({
        script,
        scriptPath,
        name: slurmJobName(ref.namespace, ref.name, ref.uid),
        comment: slurmComment(this.owner, ref.namespace, ref.name, ref.uid),
        array: missing,
        ...req,
        output: `${dir}/%a.out`,
        workdir: dir,
        partition: this.config.partition,
      });
      await records.addSubmission(ref, id, missing);
      for (const r of missing) covered.set(r, id);
    }
    return [...new Set(share.ranks.map((r) => covered.get(r)))].join(',');
  }

  async tasks(signal?: AbortSignal): Promise<JobTasks[]> {
    const records = await this.workdir();
    // Slurm first, records second: a task that ends between the two reads has its exit file by then.
    // Every job: the ids in our records are ours whatever their comment (jobs submitted before comments carried an owner).
    const slurm = await this.backend.jobs(signal);
    const { records: list, cancelled } = await records.scan(signal);
    const byTask = new Map<string, SlurmTask>();
    for (const t of slurm) byTask.set(`${t.arrayJobId}_${t.taskId ?? ''}`, t);
    const out: JobTasks[] = [];
    const known = new Set<string>();
    for (const rec of list) {
      known.add(rec.uid);
      const jt: JobTasks = { uid: rec.uid, namespace: rec.namespace, name: rec.name, jobId: [...new Set(rec.ranks.values())].join(','), tasks: {}, ranks: {} };
      for (const [rank, id] of [...rec.ranks].sort((a, b) => a[0] - b[0])) {
        const task = taskName(rec.name, rank);
        jt.tasks[task] = rankState(byTask.get(`${id}_${rank}`), rec, rank);
        jt.ranks[task] = rank;
        // The exit, start and end files the batch script wrote.
        const exitCode = rec.exits.get(rank);
        const startedAt = rec.starts.get(rank);
        const finishedAt = exitCode === undefined ? undefined : rec.ends.get(rank);
        if (exitCode !== undefined || startedAt !== undefined)
          (jt.details ??= {})[task] = {
            ...(exitCode !== undefined ? { exitCode } : {}),
            ...(startedAt !== undefined ? { startedAt } : {}),
            ...(finishedAt !== undefined ? { finishedAt } : {}),
          };
      }
      if (Object.keys(jt.tasks).length > 0) out.push(jt);
    }
    // Slurm jobs of SkyShift with no record at all (record dir lost): still reported, so nothing runs unseen.
    const orphans = new Map<string, JobTasks>();
    for (const t of slurm) {
      const who = parseComment(t.comment);
      if (
        !who ||
        who.owner !== this.owner ||
        known.has(who.uid) ||
        cancelled.has(who.uid.replace(/[^A-Za-z0-9_.-]/g, '-')) ||
        t.taskId === undefined ||
        /CANCEL/i.test(t.state)
      )
        continue;
      let jt = orphans.get(who.uid);
      if (!jt) orphans.set(who.uid, (jt = { uid: who.uid, namespace: who.namespace, name: who.name, jobId: t.arrayJobId, tasks: {}, ranks: {} }));
      jt.tasks[taskName(who.name, t.taskId)] = taskState(t.state);
      jt.ranks[taskName(who.name, t.taskId)] = t.taskId;
    }
    return [...out, ...orphans.values()];
  }

  async cancel(job: JobRef, ranks?: number[]): Promise<void> {
    const records = await this.workdir();
    const rec = (await records.list()).find((r) => r.uid === job.uid);
    const ids = new Set<string>();
    for (const [rank, id] of rec?.ranks ?? []) if (ranks === undefined || ranks.includes(rank)) ids.add(ranks === undefined ? id : `${id}_${rank}`);
    for (const t of await this.ownJobs()) {
      if (parseComment(t.comment)?.uid !== job.uid) continue;
      if (ranks === undefined) ids.add(t.arrayJobId);
      else if (t.taskId !== undefined && ranks.includes(t.taskId)) ids.add(`${t.arrayJobId}_${t.taskId}`);
    }
    await this.backend.cancel([...ids]);
    if (ranks === undefined) await records.remove(job);
    else if (rec) await records.forget(job, ranks);
  }

  logs(job: JobRef, options: LogOptions): AsyncIterable<string> {
    return this.streamLogs(job, options);
  }

  /** exec and port-forward: a job step (srun --overlap) or a TCP connection to the task's node; see exec.ts. */
  exec(job: JobRef, options: ExecOptions): Promise<ExecSession> {
    return execInTask(this.taskAccess(), job, options);
  }
  portForward(job: JobRef, options: { task: string; port: number; signal?: AbortSignal }) {
    return forwardToTask(this.taskAccess(), job, options);
  }
  private taskAccess(): TaskAccess {
    return { cluster: this.name, runner: this.runner, tasks: (signal) => this.tasks(signal), records: () => this.workdir() };
  }

  async close(): Promise<void> {
    // Slurm jobs belong to the cluster; nothing to stop here.
  }

  // --- internals ---

  /** Slurm jobs marked with this cluster's owner; everyone else's are not ours to see or cancel. */
  private async ownJobs(signal?: AbortSignal): Promise<SlurmTask[]> {
    return (await this.backend.jobs(signal)).filter((t) => parseComment(t.comment)?.owner === this.owner);
  }

  private async *streamLogs(job: JobRef, options: LogOptions): AsyncGenerator<string> {
    const records = await this.workdir();
    const wanted = (r: number) => options.task === undefined || taskName(job.name, r) === options.task;
    // A follow of a replica not submitted yet waits for it (as the kubernetes manager waits for a Pending pod).
    let rec = (await records.list(options.signal)).find((r) => r.uid === job.uid);
    while (options.follow && ![...(rec?.ranks.keys() ?? [])].some(wanted)) {
      if (!(await sleep(this.config.pollMs ?? 1000, options.signal))) return;
      rec = (await records.list(options.signal)).find((r) => r.uid === job.uid);
    }
    let ranks = [...(rec?.ranks.keys() ?? [])].sort((a, b) => a - b);
    if (!rec || ranks.length === 0) throw new ManagerError('NotFound', `job '${job.namespace}/${job.name}' has no replicas on cluster '${this.name}'`);
    if (options.task !== undefined) {
      ranks = ranks.filter(wanted);
      if (ranks.length === 0)
        throw new ManagerError('NotFound', `task '${options.task}' of job '${job.namespace}/${job.name}' not found on cluster '${this.name}'`);
    }
    const files = ranks.map((r) => `${rec.dir}/${r}.out`);
    const n = options.tail === undefined ? '+1' : String(Math.max(0, options.tail));
    if (!options.follow) {
      for (const f of files) {
        if (options.signal?.aborted) return;
        // A replica that has not started has no file yet: no lines, not an error.
        const r = await this.runner.run(['tail', '-n', n, '--', f], { signal: options.signal });
        if (r.code !== 0) continue;
        const lines = r.stdout.split('\n');
        if (lines.at(-1) === '') lines.pop();
        yield* lines;
      }
      return;
    }
    // Follow: one `tail -F` over all files; a side loop ends it once every followed replica has finished.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const watcher = this.waitFinished(job.uid, ranks, stop.signal).then(
      async () => {
        await sleep(1500, stop.signal); // let tail print the last lines
        stop.abort();
      },
      () => stop.abort(),
    );
    try {
      yield* this.runner.lines(stdinWatchdog(['tail', '-q', '-n', n, '-F', '--', ...files]), stop.signal);
    } finally {
      stop.abort();
      options.signal?.removeEventListener('abort', onAbort);
      await watcher;
    }
  }

  /**
   * Resolves once every followed replica has finished. A replica Slurm does not
   * list counts as finished only once it was listed before (it ended and aged
   * out) or after UNSEEN_GRACE_MS: just after submission squeue may not show it
   * yet, and a follow must not end before the replica has even started.
   */
  private async waitFinished(uid: string, ranks: number[], signal: AbortSignal): Promise<void> {
    const pollMs = this.config.pollMs ?? 1000;
    const seen = new Set<number>();
    const since = Date.now();
    while (!signal.aborted) {
      try {
        const jt = (await this.tasks(signal)).find((j) => j.uid === uid);
        const states = ranks.map((r) => {
          const t = jt ? Object.entries(jt.ranks).find(([, v]) => v === r)?.[0] : undefined;
          const state = t && jt ? jt.tasks[t] : undefined;
          if (state !== undefined) seen.add(r);
          return { r, state };
        });
        const gone = (r: number) => seen.has(r) || Date.now() - since > UNSEEN_GRACE_MS;
        if (states.every(({ r, state }) => (state === undefined ? gone(r) : isTerminal(state)))) return;
      } catch {
        /* Slurm briefly unreachable: keep following */
      }
      await sleep(pollMs, signal);
    }
  }

  private async workdir(): Promise<Records> {
    if (this.records) return this.records;
    let dir = this.config.workdir ?? `~/.skyshift/slurm/${this.name}`;
    if (dir === '~' || dir.startsWith('~/')) {
      const home = this.config.host ? (await this.runner.check(['sh', '-c', 'printf %s "$HOME"'])).trim() : homedir();
      dir = home + dir.slice(1);
    }
    if (!dir.startsWith('/')) throw new ManagerError('Invalid', `cluster '${this.name}': config.workdir must be absolute or start with ~/, got ${dir}`);
    await this.runner.check(['mkdir', '-p', '--', dir]);
    this.records = new Records(this.runner, dir, this.owner);
    return this.records;
  }

  /** Configured runtime, else the first of podman/apptainer/singularity found on the Slurm side (`command -v`), else none. Cached. */
  private async detectRuntime(): Promise<Runtime> {
    if (this.config.runtime) return this.config.runtime;
    if (this.runtime) return this.runtime;
    const out = await this.runner.check([
      'sh',
      '-c',
      'for r in podman apptainer singularity; do command -v "$r" >/dev/null 2>&1 && { echo "$r"; exit 0; }; done; echo none',
    ]);
    const found = out.trim() as Runtime;
    this.runtime = RUNTIMES.includes(found) ? found : 'none';
    return this.runtime;
  }
}

function rankState(t: SlurmTask | undefined, rec: JobRecord, rank: number): TaskState {
  if (t) return taskState(t.state);
  const exit = rec.exits.get(rank);
  if (exit !== undefined) return exit === 0 ? 'COMPLETED' : 'FAILED';
  return 'FAILED'; // Slurm forgot it and the script never wrote its exit code: lost (killed, node died)
}
