/**
 * The `local` manager: replicas are processes on this host (or podman
 * containers when the cluster has `runtime: podman` and the job an image).
 *
 * Decisions:
 * - Without `runtime`, `spec.image` is ignored: replicas are plain processes.
 *   With `runtime: podman`, jobs without an image still run as plain processes.
 * - All state lives on disk under the workdir (records.ts), so a restarted
 *   SkyShift adopts running replicas; nothing is kept in memory.
 * - Replicas never see SkyShift's identity (identity.ts): as root, SkyShift
 *   runs them as an unprivileged user; their environment is built from
 *   nothing; their HOME and working directory is `<rank>/work`, which holds
 *   only what the job writes (SkyShift's bookkeeping stays one level up).
 * - One live process owns a workdir (dir-lock.ts): a second SkyShift pointed
 *   at it refuses to start or cancel anything there.
 * - submit does not check capacity: placing is the scheduler's job; status()
 *   reports what is left.
 * - cancel kills the replica's process group and then DELETES its directory,
 *   log included. The contract says cancel removes all work, and the
 *   idempotency key is the directory: an evicted replica rescheduled back onto
 *   this cluster (same uid and rank) must be able to start again, which a kept
 *   directory would block. Logs of cancelled replicas are therefore gone;
 *   archiving them is left to a later issue.
 */
import { stat, writeFile, access, unlink, chmod } from 'node:fs/promises';
import { constants } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ManagerError } from '../errors.js';
import { taskName, type Job } from '../../api/index.js';
import { submittedJobRef } from '../job-ref.js';
import type { ExecCapability, ExecOptions, ExecSession, PortForwardCapability } from '../capabilities.js';
import type { ClusterManager, ClusterState, JobRef, JobShare, JobTasks, LogOptions, Resources, TaskState } from '../types.js';
import { DirLockedError, lockDirectory, lockHolder } from './dir-lock.js';
import { defaultWorkRoot, resolveRunAs, unreachableAncestor, type RunAs } from './identity.js';
import { prepareReplicaDir, replicaLaunch } from './launch.js';
import { isAlive, killGroup, ownsGroup, procStat, spawnDetached, wrapperScript } from './process.js';
import { podmanProblem, removeContainer, type PodmanStorage } from './podman.js';
import {
  FILES,
  JobStore,
  ensureDir,
  exists,
  jobDirName,
  readExitCode,
  readJson,
  readText,
  writeJsonAtomic,
  type JobMeta,
  type ReplicaRecord,
} from './records.js';
import { ranksToRead, readLogs } from './tail.js';
import { replicaDetail } from './details.js';
import { execInReplica, type ReplicaAccess } from './exec.js';
import { forwardToReplica } from './portforward.js';

export interface LocalManagerConfig {
  /** Cluster name. */
  name: string;
  cpus?: number;
  /** MiB. */
  memory?: number;
  /** GPUs offered (capacity only: replicas are not pinned to devices). */
  gpus?: number;
  /** Their type (e.g. A100): offered under that key too, so typed requests fit. */
  gpuType?: string;
  /** Default <work root>/<name>: $SKYSHIFT_WORK_ROOT, else /var/lib/skyshift/work as root, else ~/.skyshift/clusters. */
  workdir?: string;
  /** The user replicas run as when SkyShift runs as root (default `nobody`). */
  runAs?: string;
  runtime?: 'podman';
  /** `podman --root` for every podman call of this cluster: isolated or rootless setups, tests. Default: podman's own. */
  podmanRoot?: string;
  /** `podman --runroot`, likewise. */
  podmanRunroot?: string;
  /** Between SIGTERM and SIGKILL on cancel. Default 5000. */
  killGraceMs?: number;
  /** Log follow poll interval. Default 200. */
  pollMs?: number;
}

type ReplicaView = TaskState | 'CANCELLED' | 'GONE';

/** A claim with no record for this long was lost by a crashed starter (see lostStart). */
const LOST_CLAIM_MS = 5_000;

export class LocalManager implements ClusterManager, ExecCapability, PortForwardCapability {
  readonly type = 'local';
  readonly name: string;
  readonly workdir: string;
  private readonly store: JobStore;
  private readonly capacity: Resources;
  private readonly podmanStorage: PodmanStorage;
  private self: { pid: number; startTime: string | null } | undefined;
  private runAs: Promise<RunAs> | undefined;
  private releaseWorkdir: (() => void) | undefined;

  constructor(private readonly config: LocalManagerConfig) {
    if (!config.name) throw new Error('local manager: config.name (the cluster name) is required');
    for (const key of ['cpus', 'memory'] as const) {
      const v = config[key];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
        throw new Error(`cluster '${config.name}': config.${key} must be a positive number, got ${JSON.stringify(v)}`);
      }
    }
    if (config.runtime !== undefined && config.runtime !== 'podman') {
      throw new Error(`cluster '${config.name}': unsupported runtime '${String(config.runtime)}' (supported: podman)`);
    }
    this.name = config.name;
    this.workdir = config.workdir ?? join(defaultWorkRoot(), config.name);
    this.store = new JobStore(this.workdir);
    this.podmanStorage = { root: config.podmanRoot, runroot: config.podmanRunroot };
    this.capacity = { cpus: config.cpus ?? cpus().length, memory: config.memory ?? Math.floor(totalmem() / (1024 * 1024)) };
    if (config.gpus !== undefined && config.gpus > 0) {
      this.capacity['gpus'] = config.gpus;
      if (config.gpuType) this.capacity[config.gpuType] = config.gpus;
    }
  }

  async connect(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const problem = (await this.workdirProblem()) ?? (await this.runtimeProblem());
    if (problem) throw new ManagerError('ServiceUnavailable', problem);
    this.ownWorkdir();
    const runAs = await this.identity();
    const blocked = await unreachableAncestor(this.store.jobsDir, runAs);
    if (blocked) {
      throw new ManagerError(
        'Invalid',
        `cluster '${this.name}': replicas run as '${runAs.name}', who may not enter ${blocked.dir} (mode ${blocked.mode}) on the way to workdir ${this.workdir}; choose a workdir elsewhere or allow traversal (chmod o+x)`,
      );
    }
  }

  async status(signal?: AbortSignal): Promise<ClusterState> {
    const capacity = { [this.name]: { ...this.capacity } };
    const runtime = this.config.runtime ?? 'none';
    const problem = (await this.workdirProblem()) ?? (await this.runtimeProblem());
    if (problem) return { phase: 'ERROR', message: problem, capacity, allocatable: { [this.name]: { ...this.capacity } }, runtime };
    const free: Resources = { ...this.capacity };
    for (const { meta } of await this.store.listJobs()) {
      signal?.throwIfAborted();
      for (const rank of await this.store.listRanks(this.store.jobDir(meta))) {
        const state = await this.inspect(meta, rank);
        if (state !== 'RUNNING' && state !== 'PENDING') continue;
        const record = await readJson<ReplicaRecord>(join(this.store.rankDir(meta, rank), FILES.record));
        for (const [k, v] of Object.entries(record?.resources ?? {})) {
          // Only what this cluster has; clamp so an over-committed host reads as full, not negative.
          const have = free[k];
          if (have !== undefined) free[k] = Math.max(0, have - v);
        }
      }
    }
    return { phase: 'READY', capacity, allocatable: { [this.name]: free }, runtime };
  }

  async submit(job: Job, share: JobShare): Promise<string> {
    const ref = submittedJobRef(job);
    this.ownWorkdir();
    if (this.config.runtime === 'podman' && job.spec.image) {
      const problem = await podmanProblem(this.name);
      if (problem) throw new ManagerError('ServiceUnavailable', problem);
    }
    const meta: JobMeta = { ...ref, replicas: job.spec.replicas ?? share.ranks.length };
    await this.store.ensureJob(meta);
    for (const rank of share.ranks) {
      if (!Number.isInteger(rank) || rank < 0) throw new ManagerError('BadRequest', `job '${ref.namespace}/${ref.name}': invalid rank ${rank}`);
      // The claim is the idempotency guard: whoever loses it (a resubmit, a concurrent submit) starts nothing,
      // unless the claimer died before its wrapper ran (a lost start); the wrapper's `started` guard keeps a retry single.
      if ((await this.store.claim(ref, rank)) || (await this.lostStart(meta, rank))) await this.start(job, meta, rank);
    }
    return jobDirName(ref);
  }

  async tasks(signal?: AbortSignal): Promise<JobTasks[]> {
    const out: JobTasks[] = [];
    for (const { dir, meta } of await this.store.listJobs()) {
      signal?.throwIfAborted();
      const jt: JobTasks = { uid: meta.uid, namespace: meta.namespace, name: meta.name, jobId: jobDirName(meta), tasks: {}, ranks: {} };
      for (const rank of await this.store.listRanks(dir)) {
        const state = await this.inspect(meta, rank);
        if (state === 'CANCELLED' || state === 'GONE') continue;
        const task = taskName(meta.name, rank);
        jt.tasks[task] = state;
        jt.ranks[task] = rank;
        const detail = await replicaDetail(this.store.rankDir(meta, rank), state);
        if (detail) (jt.details ??= {})[task] = detail;
      }
      if (Object.keys(jt.tasks).length > 0) out.push(jt);
    }
    return out;
  }

  async cancel(job: JobRef, ranks?: number[]): Promise<void> {
    this.ownWorkdir();
    const all = await this.store.listRanks(this.store.jobDir(job));
    const targets = ranks === undefined ? all : all.filter((r) => ranks.includes(r));
    await Promise.all(targets.map((rank) => this.stopReplica(job, rank)));
    if (ranks === undefined) await this.store.removeJobIfEmpty(job);
  }

  logs(job: JobRef, options: LogOptions): AsyncIterable<string> {
    return this.streamLogs(job, options);
  }

  // Capabilities (DESIGN section 8): a command in a running replica, as the replica; a TCP connection to its port.
  exec = (job: JobRef, options: ExecOptions): Promise<ExecSession> => execInReplica(this.replicaAccess(), job, options);
  portForward: PortForwardCapability['portForward'] = (job, options) => forwardToReplica(this.replicaAccess(), job, options);

  async close(): Promise<void> {
    // Replicas deliberately keep running: they belong to the cluster, not to this process.
    this.releaseWorkdir?.();
    this.releaseWorkdir = undefined;
  }

  // --- internals ---

  private async *streamLogs(job: JobRef, options: LogOptions): AsyncGenerator<string> {
    const wanted = (r: number) => options.task === undefined || taskName(job.name, r) === options.task;
    const ranks = await ranksToRead(() => this.store.listRanks(this.store.jobDir(job)), wanted, { ...options, pollMs: this.config.pollMs });
    if (ranks === undefined) return; // the follower went away while the replica was not started yet
    if (ranks.length === 0 && options.task !== undefined)
      throw new ManagerError('NotFound', `task '${options.task}' of job '${job.namespace}/${job.name}' not found on cluster '${this.name}'`);
    if (ranks.length === 0) throw new ManagerError('NotFound', `job '${job.namespace}/${job.name}' has no replicas on cluster '${this.name}'`);
    const sources = ranks.map((rank) => ({
      path: join(this.store.rankDir(job, rank), FILES.log),
      finished: async () => {
        const s = await this.inspect(job, rank);
        return s !== 'RUNNING' && s !== 'PENDING';
      },
    }));
    yield* readLogs(sources, { follow: options.follow, tail: options.tail, signal: options.signal, pollMs: this.config.pollMs });
  }

  private replicaAccess(): ReplicaAccess {
    return { cluster: this.name, store: this.store, podman: this.podmanStorage, state: (j, r) => this.inspect(j, r), runAs: () => this.identity() };
  }

  /** State of one replica, read from disk and /proc only. */
  private async inspect(job: JobRef, rank: number): Promise<ReplicaView> {
    const dir = this.store.rankDir(job, rank);
    if ((await readText(join(dir, FILES.cancelled))) !== undefined) return 'CANCELLED';
    const exit = await readExitCode(dir);
    if (exit !== undefined) return exit === 0 ? 'COMPLETED' : 'FAILED';
    // The wrapper's own pid file is the truth once it exists: the record may lack the pid (crash right after spawn).
    const wrapperPid = Number((await readText(join(dir, FILES.pid)))?.trim() ?? NaN);
    if (Number.isInteger(wrapperPid) && wrapperPid > 0) {
      if (await isAlive(wrapperPid, null)) return 'RUNNING';
      const late = await readExitCode(dir);
      if (late !== undefined) return late === 0 ? 'COMPLETED' : 'FAILED';
      return 'FAILED'; // gone without an exit code: killed
    }
    const record = await readJson<ReplicaRecord>(join(dir, FILES.record));
    if (!record) {
      if (!(await exists(dir))) return 'GONE';
      // Claimed, record not written yet (starting), or a start lost to a crash: submit() starts a lost one again.
      return 'PENDING';
    }
    if (record.pid === undefined) {
      // Starting, or the starter crashed between claim and spawn: the replica never ran and submit() starts it again.
      return 'PENDING';
    }
    if (await isAlive(record.pid, record.startTime)) return 'RUNNING';
    // The wrapper writes exitcode before it exits, so a second look settles a race with its last moments.
    const late = await readExitCode(dir);
    if (late !== undefined) return late === 0 ? 'COMPLETED' : 'FAILED';
    return 'FAILED'; // gone without an exit code: killed
  }

  /** Claimed, never run, and nobody is starting it any more: safe to start (the wrapper's `started` dir guards a race). */
  private async lostStart(job: JobRef, rank: number): Promise<boolean> {
    const dir = this.store.rankDir(job, rank);
    if ((await exists(join(dir, FILES.cancelled))) || (await exists(join(dir, FILES.started))) || (await readExitCode(dir)) !== undefined) return false;
    const record = await readJson<ReplicaRecord>(join(dir, FILES.record));
    if (!record) {
      // Claim and record are written back to back; a claim this old without a record lost its starter.
      // Erring early is harmless: the wrapper's `started` guard lets only one of two starts run.
      try {
        return Date.now() - (await stat(dir)).mtimeMs > LOST_CLAIM_MS;
      } catch {
        return false;
      }
    }
    if (record.pid !== undefined && (await isAlive(record.pid, record.startTime))) return false;
    return !(await isAlive(record.claimedBy.pid, record.claimedBy.startTime));
  }

  private async start(job: Job, meta: JobMeta, rank: number): Promise<void> {
    const dir = this.store.rankDir(meta, rank);
    const record: ReplicaRecord = {
      uid: meta.uid,
      namespace: meta.namespace,
      name: meta.name,
      rank,
      resources: { ...(job.spec.resources ?? {}) },
      claimedBy: await this.selfIdentity(),
    };
    let pid: number;
    try {
      await writeJsonAtomic(join(dir, FILES.record), record);
      const runAs = await this.identity();
      await prepareReplicaDir([this.workdir, this.store.jobsDir, this.store.jobDir(meta)], dir, runAs);
      const launch = replicaLaunch({ job, meta, rank, dir, runAs, podman: this.config.runtime === 'podman' ? this.podmanStorage : undefined });
      if (launch.container) record.container = launch.container;
      const { inner, env } = launch;
      const command = join(dir, FILES.command);
      await writeFile(command, job.spec.run.endsWith('\n') ? job.spec.run : job.spec.run + '\n');
      // Readable by the replica user (it is the job's own command); SkyShift's umask may be 077.
      await chmod(command, 0o644);
      await writeFile(join(dir, FILES.wrapper), wrapperScript(inner), { mode: 0o700 });
      pid = await spawnDetached(join(dir, FILES.wrapper), dir, join(dir, FILES.log), env);
    } catch (err) {
      // Nothing runs yet, so releasing the claim is safe and lets the caller's retry start the replica.
      await this.store.removeRank(meta, rank).catch(() => undefined);
      throw new ManagerError(
        'InternalError',
        `cluster '${this.name}': could not start replica ${rank} of job '${meta.namespace}/${meta.name}': ${(err as Error).message}`,
      );
    }
    const st = await procStat(pid);
    Object.assign(record, { pid, pgid: pid, startTime: st?.startTime ?? null, startedAt: new Date().toISOString() });
    await writeJsonAtomic(join(dir, FILES.record), record);
  }

  private identity(): Promise<RunAs> {
    this.runAs ??= resolveRunAs(this.name, this.config.runAs);
    // A failed lookup is retried next time (the user may be created meanwhile).
    this.runAs.catch(() => (this.runAs = undefined));
    return this.runAs;
  }

  /** Takes this process's ownership of the workdir; throws naming the live process that owns it instead. */
  private ownWorkdir(): void {
    if (this.releaseWorkdir) return;
    try {
      this.releaseWorkdir = lockDirectory(this.workdir, `local cluster '${this.name}'`);
    } catch (err) {
      if (err instanceof DirLockedError) {
        throw new ManagerError('ServiceUnavailable', `cluster '${this.name}': workdir ${err.message}`);
      }
      throw err;
    }
  }

  private async stopReplica(job: JobRef, rank: number): Promise<void> {
    const dir = this.store.rankDir(job, rank);
    try {
      // From now on tasks() and status() ignore the replica, even while it is still dying.
      await writeFile(join(dir, FILES.cancelled), new Date().toISOString() + '\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const record = await readJson<ReplicaRecord>(join(dir, FILES.record));
    // The container first: killing the `podman run` client alone leaves it running (see removeContainer).
    if (record?.container) await removeContainer(this.podmanStorage, record.container, record.uid);
    if (record?.pgid !== undefined && record.pid !== undefined && (await ownsGroup(record.pid, record.pgid, record.startTime))) {
      await killGroup(record.pgid, this.config.killGraceMs ?? 5000);
    }
    // Again after the client is gone: a cancel racing `podman run` while it was still creating the container would miss it the first time.
    if (record?.container) await removeContainer(this.podmanStorage, record.container, record.uid);
    await this.store.removeRank(job, rank);
  }

  private async selfIdentity(): Promise<{ pid: number; startTime: string | null }> {
    this.self ??= { pid: process.pid, startTime: (await procStat(process.pid))?.startTime ?? null };
    return this.self;
  }

  private async workdirProblem(): Promise<string | undefined> {
    const holder = lockHolder(this.workdir);
    if (holder && holder.pid !== process.pid) {
      return `cluster '${this.name}': workdir ${this.workdir} is in use by process ${holder.pid} (${holder.purpose}, since ${holder.acquiredAt})`;
    }
    try {
      await ensureDir(this.store.jobsDir);
      await access(this.store.jobsDir, constants.W_OK);
      const probe = join(this.workdir, `.probe-${process.pid}`);
      await writeFile(probe, '');
      await unlink(probe);
      return undefined;
    } catch (err) {
      return `cluster '${this.name}': workdir ${this.workdir} is not writable: ${(err as Error).message}`;
    }
  }

  private async runtimeProblem(): Promise<string | undefined> {
    return this.config.runtime === 'podman' ? podmanProblem(this.name) : undefined;
  }
}
