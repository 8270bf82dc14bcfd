/**
 * The `sim` manager: a simulated cluster of N identical nodes, in memory, for
 * scale tests and benchmarks. It runs nothing; its status message says so, so
 * it is never mistaken for a real backend.
 *
 * A replica occupies a node (first fit) from submit until it completes or is
 * cancelled, and "runs" for the seconds of the first `sleep N` in its command,
 * else `defaultDurationSeconds`. Time comes from `clock` so tests need not wait.
 *
 * A replica no node has room for (the scheduler picks nodes by its own view,
 * so packings differ) waits PENDING. Its demand is still charged to
 * allocatable, greedily node by node and never below 0: a report that showed
 * promised capacity as free invited the scheduler to promise it again (a
 * 10,000-job burst over-committed sims 2x). `startDelaySeconds` and
 * `pendingInAllocatable: false` model a slow, Slurm-like backend for tests.
 */
import { taskName, type Job } from '../../api/index.js';
import { ManagerError } from '../errors.js';
import { submittedJobRef } from '../job-ref.js';
import type { ClusterManager, ClusterState, JobShare, JobTasks, LogOptions, TaskDetail, NodeResources, Resources } from '../types.js';

export interface SimManagerConfig {
  name: string;
  nodes: number;
  nodeResources: Resources;
  /** For commands without `sleep N`. Default 10. */
  defaultDurationSeconds?: number;
  /** Milliseconds since some epoch; default Date.now. */
  clock?: () => number;
  /** A submitted replica stays PENDING at least this long, even with room (a lagging backend). Default 0. */
  startDelaySeconds?: number;
  /**
   * Whether PENDING replicas are subtracted from allocatable. Default true. false is Slurm's
   * view (queued jobs hold no node), for tests of the scheduler against such a backend.
   */
  pendingInAllocatable?: boolean;
}

interface SimReplica {
  rank: number;
  node: string;
  resources: Resources;
  startedAt: number;
  durationMs: number;
  /** Ranks beyond the cluster's capacity wait for room instead of failing. */
  placed: boolean;
  /** Not started before this time (startDelaySeconds). */
  notBefore: number;
  /** Its usage has been returned to the node (completed or cancelled). */
  released?: boolean;
}

interface SimJob {
  uid: string;
  namespace: string;
  name: string;
  replicas: Map<number, SimReplica>;
}

const SLEEP = /\bsleep\s+(\d+(?:\.\d+)?)\b/;

export class SimManager implements ClusterManager {
  readonly type = 'sim';
  readonly name: string;
  private readonly nodeNames: string[];
  private readonly jobs = new Map<string, SimJob>();
  private readonly clock: () => number;
  private readonly defaultMs: number;
  private readonly delayMs: number;
  /**
   * Kept incrementally: benchmarks submit thousands of replicas to one sim, and
   * recomputing free capacity from every replica on each placement was
   * quadratic (a third of `skyshift up`'s CPU while placing a backlog).
   */
  private readonly used = new Map<string, Resources>();
  /** Placed replicas whose usage is still counted, and the earliest time one of them completes. */
  private readonly running = new Set<SimReplica>();
  private nextEnd = Infinity;
  /** Replicas waiting for room, in submit order. */
  private readonly waiting = new Set<SimReplica>();

  constructor(private readonly config: SimManagerConfig) {
    if (!config.name) throw new Error('sim manager: config.name (the cluster name) is required');
    if (!Number.isInteger(config.nodes) || config.nodes < 1) throw new Error(`cluster '${config.name}': config.nodes must be an integer >= 1`);
    if (!config.nodeResources || typeof config.nodeResources !== 'object') throw new Error(`cluster '${config.name}': config.nodeResources is required`);
    this.name = config.name;
    this.clock = config.clock ?? Date.now;
    this.defaultMs = (config.defaultDurationSeconds ?? 10) * 1000;
    this.delayMs = (config.startDelaySeconds ?? 0) * 1000;
    const width = String(config.nodes - 1).length;
    this.nodeNames = Array.from({ length: config.nodes }, (_, i) => `${config.name}-node-${String(i).padStart(width, '0')}`);
  }

  async connect(): Promise<void> {}

  async status(): Promise<ClusterState> {
    this.advance();
    const capacity: NodeResources = {};
    for (const n of this.nodeNames) capacity[n] = { ...this.config.nodeResources };
    return { phase: 'READY', message: `simulated cluster (${this.nodeNames.length} nodes); runs nothing`, capacity, allocatable: this.free() };
  }

  async submit(job: Job, share: JobShare): Promise<string> {
    const { uid, namespace, name } = submittedJobRef(job);
    this.advance();
    let sj = this.jobs.get(uid);
    if (!sj) {
      sj = { uid, namespace, name, replicas: new Map() };
      this.jobs.set(uid, sj);
    }
    const match = SLEEP.exec(job.spec.run ?? '');
    const durationMs = match?.[1] !== undefined ? Number(match[1]) * 1000 : this.defaultMs;
    const resources = { ...(job.spec.resources ?? {}) };
    const notBefore = this.clock() + this.delayMs;
    for (const rank of share.ranks) {
      if (sj.replicas.has(rank)) continue; // idempotent by uid + rank
      const replica: SimReplica = { rank, node: '', resources, startedAt: 0, durationMs, placed: false, notBefore };
      sj.replicas.set(rank, replica);
      if (this.delayMs > 0 || !this.place(replica)) this.waiting.add(replica);
    }
    return `sim-${uid}`;
  }

  async tasks(signal?: AbortSignal): Promise<JobTasks[]> {
    this.advance();
    const out: JobTasks[] = [];
    for (const sj of this.jobs.values()) {
      signal?.throwIfAborted();
      const jt: JobTasks = { uid: sj.uid, namespace: sj.namespace, name: sj.name, jobId: `sim-${sj.uid}`, tasks: {}, ranks: {} };
      for (const r of [...sj.replicas.values()].sort((a, b) => a.rank - b.rank)) {
        const task = taskName(sj.name, r.rank);
        jt.tasks[task] = !r.placed ? 'PENDING' : this.done(r) ? 'COMPLETED' : 'RUNNING';
        jt.ranks[task] = r.rank;
        // Simulated times: a sim replica starts when placed and exits 0 after its duration.
        if (r.placed) (jt.details ??= {})[task] = simDetail(r, this.done(r));
      }
      out.push(jt);
    }
    return out;
  }

  async cancel(job: { uid: string; namespace: string; name: string }, ranks?: number[]): Promise<void> {
    const sj = this.jobs.get(job.uid);
    if (!sj) return;
    for (const rank of ranks ?? [...sj.replicas.keys()]) {
      const r = sj.replicas.get(rank);
      if (!r) continue;
      sj.replicas.delete(rank);
      this.waiting.delete(r);
      this.releaseUsage(r);
    }
    if (sj.replicas.size === 0) this.jobs.delete(job.uid);
    this.advance(); // freed room may let waiting replicas start
  }

  async *logs(job: { uid: string; namespace: string; name: string }, options: LogOptions): AsyncGenerator<string> {
    this.advance();
    const sj = this.jobs.get(job.uid);
    if (!sj) throw new ManagerError('NotFound', `job '${job.namespace}/${job.name}' has no replicas on cluster '${this.name}'`);
    for (const r of [...sj.replicas.values()].sort((a, b) => a.rank - b.rank)) {
      if (options.signal?.aborted) return;
      const task = taskName(sj.name, r.rank);
      if (options.task !== undefined && options.task !== task) continue;
      if (options.tail === 0) continue;
      yield `[sim] ${task} on ${r.node || '(pending)'}: simulated replica, no real output`;
    }
  }

  async close(): Promise<void> {}

  // --- bookkeeping ---

  private done(r: SimReplica): boolean {
    return r.placed && this.clock() - r.startedAt >= r.durationMs;
  }

  /** Per node, capacity minus what placed, unfinished replicas hold, minus what waiting ones will need. */
  private free(): NodeResources {
    const free: NodeResources = {};
    for (const n of this.nodeNames) {
      const node = { ...this.config.nodeResources };
      for (const [k, v] of Object.entries(this.used.get(n) ?? {})) node[k] = (node[k] ?? 0) - v;
      free[n] = node;
    }
    if (this.config.pendingInAllocatable !== false) for (const r of this.waiting) this.charge(free, r.resources);
    return free;
  }

  /**
   * Take a waiting replica's demand out of `free`: on the first node it fits whole (where it
   * would start), else spread over nodes in order, clamping at 0. Either way the cluster's
   * total free shrinks by the demand (or to 0), so no report shows promised room as free.
   */
  private charge(free: NodeResources, demand: Resources): void {
    const entries = Object.entries(demand).filter(([, v]) => v > 0);
    const whole = this.nodeNames.find((n) => entries.every(([k, v]) => (free[n]?.[k] ?? 0) >= v));
    for (const [k, v] of entries) {
      let left = v;
      for (const n of whole !== undefined ? [whole] : this.nodeNames) {
        const node = free[n];
        if (left <= 0) break;
        if (!node) continue;
        const take = Math.min(Math.max(0, node[k] ?? 0), left);
        node[k] = (node[k] ?? 0) - take;
        left -= take;
      }
    }
  }

  private fits(node: string, resources: Resources): boolean {
    const used = this.used.get(node);
    // A plain loop: first fit calls this for node after full node as a sim fills (no entries arrays per call).
    for (const k in resources) {
      const v = resources[k] ?? 0;
      if (v > 0 && (this.config.nodeResources[k] ?? 0) - (used?.[k] ?? 0) < v) return false;
    }
    return true;
  }

  private place(r: SimReplica): boolean {
    for (const n of this.nodeNames) {
      if (!this.fits(n, r.resources)) continue;
      r.node = n;
      r.placed = true;
      r.startedAt = this.clock();
      const used = this.used.get(n) ?? {};
      for (const [k, v] of Object.entries(r.resources)) used[k] = (used[k] ?? 0) + v;
      this.used.set(n, used);
      this.running.add(r);
      this.nextEnd = Math.min(this.nextEnd, r.startedAt + r.durationMs);
      return true;
    }
    return false;
  }

  private releaseUsage(r: SimReplica): void {
    if (!r.placed || r.released) return;
    r.released = true;
    this.running.delete(r);
    const used = this.used.get(r.node);
    if (used) for (const [k, v] of Object.entries(r.resources)) used[k] = (used[k] ?? 0) - v;
  }

  /** Return the room of completed replicas, then start waiting replicas that now fit (in submit order). */
  private advance(): void {
    const now = this.clock();
    if (now >= this.nextEnd) {
      this.nextEnd = Infinity;
      for (const r of [...this.running]) {
        if (now - r.startedAt >= r.durationMs) this.releaseUsage(r);
        else this.nextEnd = Math.min(this.nextEnd, r.startedAt + r.durationMs);
      }
    }
    for (const r of [...this.waiting]) if (now >= r.notBefore && this.place(r)) this.waiting.delete(r);
  }
}

function simDetail(r: SimReplica, done: boolean): TaskDetail {
  const iso = (ms: number) => new Date(ms).toISOString();
  return done ? { startedAt: iso(r.startedAt), finishedAt: iso(r.startedAt + r.durationMs), exitCode: 0 } : { startedAt: iso(r.startedAt) };
}
