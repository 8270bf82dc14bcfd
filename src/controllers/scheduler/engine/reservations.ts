/**
 * Capacity the scheduler has promised but heartbeats do not show yet.
 *
 * Why: clusters report allocatable every few seconds; without a ledger a burst
 * of jobs placed between two heartbeats would all see the same free capacity
 * and over-commit. Every placed replica reserves its demand on (cluster, node);
 * the reservation is dropped when the capacity it stands for is visible in a
 * heartbeat, so it is never counted twice — and never dropped before:
 *
 *  - markStarted(uid, cluster, rank, at): the cluster's skylet saw the replica
 *    RUNNING or finished in a task snapshot taken at `at` (the job's
 *    status.tasksObservedAt, the skylet's clock). That is the state every
 *    manager's allocatable accounts for (an accepted submission is NOT: Slurm
 *    subtracts only jobs it has started, a manager may queue what it cannot
 *    fit), so the first such sighting is recorded as observedAt;
 *  - confirmHeartbeat(cluster, takenAt): a heartbeat whose snapshot was taken
 *    at `takenAt` (lastHeartbeatTime, the same skylet's clock) releases the
 *    replicas observed started strictly before it. Releasing on submit time
 *    alone over-committed clusters 2x in the 10,000-job benchmark: a snapshot
 *    after the submit still showed the room of replicas the sim had queued,
 *    the scheduler used it again, and so on;
 *  - markSeen(uid, cluster, rank, at): the job's status shows the replica on
 *    its manager (any state) at `at` (the scheduler's clock): it is alive;
 *  - release(uid[, rank]) / retainPlaced(uid, placements): job deleted,
 *    replica evicted or finished;
 *  - expire(now): safety net so a lost submission cannot pin capacity forever;
 *    measured from the last sighting, so work queued on the manager for a long
 *    time keeps its reservation.
 *
 * All times are plain epoch milliseconds passed in, so the ledger is pure. The
 * two clocks never meet: observedAt is only compared with heartbeat times of
 * the same skylet, reservedAt/seenAt only with the scheduler's now.
 */
import { addInto } from './resources.js';
import type { Resources } from './types.js';

export interface Reservation {
  jobUid: string;
  rank: number;
  cluster: string;
  node: string;
  /** Demand as computed by demandOf (typed GPUs already counted in gpus). */
  resources: Resources;
  reservedAt: number;
  /** Last time (scheduler's clock) the job's status showed the replica on its manager, in any state. */
  seenAt?: number;
  /** Snapshot time (skylet's clock) of the first task list that showed it RUNNING or finished: from then on heartbeats show its usage. */
  observedAt?: number;
}

export interface ReservationsOptions {
  /**
   * Drop a reservation not seen on its manager (nor reserved or submitted) for this long.
   * Default 30 minutes: it only guards against lost submissions, and dropping a live
   * reservation early is exactly the over-commit the ledger exists to prevent.
   */
  ttlMs?: number;
}

const entryKey = (jobUid: string, rank: number) => `${jobUid}#${rank}`;

export class Reservations {
  readonly ttlMs: number;
  private readonly entries = new Map<string, Reservation>();
  /** job uid -> its entry keys: per-job operations run on every job sync, so they must not scan the ledger. */
  private readonly byJob = new Map<string, Set<string>>();
  /** cluster -> its entry keys: every heartbeat of every cluster confirms, so it must not scan the whole ledger. */
  private readonly byCluster = new Map<string, Set<string>>();
  /** cluster -> node -> summed demand; kept incrementally so reading is O(nodes reserved). */
  private readonly totals = new Map<string, Map<string, Resources>>();
  /** cluster -> change counter; lets capacity caches know when to rebuild. */
  private readonly versions = new Map<string, number>();

  constructor(options: ReservationsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30 * 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Reserve (or move) the replica `rank` of a job. Idempotent for the same arguments. */
  reserve(jobUid: string, cluster: string, node: string, rank: number, resources: Resources, now = 0): void {
    this.releaseOne(entryKey(jobUid, rank));
    const entry: Reservation = { jobUid, rank, cluster, node, resources: { ...resources }, reservedAt: now };
    this.entries.set(entryKey(jobUid, rank), entry);
    let keys = this.byJob.get(jobUid);
    if (!keys) this.byJob.set(jobUid, (keys = new Set()));
    keys.add(entryKey(jobUid, rank));
    let onCluster = this.byCluster.get(cluster);
    if (!onCluster) this.byCluster.set(cluster, (onCluster = new Set()));
    onCluster.add(entryKey(jobUid, rank));
    this.apply(entry, 1);
  }

  /** Whether the job holds any reservation (most job events concern jobs that hold none). */
  holds(jobUid: string): boolean {
    return this.byJob.has(jobUid);
  }

  /** Release all of a job's reservations, or only one rank's. Returns how many were dropped. */
  release(jobUid: string, rank?: number): number {
    if (rank !== undefined) return this.releaseOne(entryKey(jobUid, rank)) ? 1 : 0;
    const keys = this.byJob.get(jobUid);
    if (!keys) return 0;
    let n = 0;
    for (const k of [...keys]) if (this.releaseOne(k)) n++;
    return n;
  }

  /** Releases the job's reservations of ranks no longer placed on their cluster (evicted, or placed elsewhere). */
  retainPlaced(jobUid: string, placements: Readonly<Record<string, readonly number[]>>): number {
    let n = 0;
    for (const k of [...(this.byJob.get(jobUid) ?? [])]) {
      const e = this.entries.get(k);
      if (e && !(placements[e.cluster] ?? []).includes(e.rank) && this.releaseOne(k)) n++;
    }
    return n;
  }

  /** The replica `rank` was shown on `cluster`'s manager at `at` (scheduler's clock): alive, whatever its state. */
  markSeen(jobUid: string, cluster: string, rank: number, at: number): void {
    const e = this.entries.get(entryKey(jobUid, rank));
    if (e && e.cluster === cluster) e.seenAt = Math.max(e.seenAt ?? at, at);
  }

  /**
   * The replica `rank` was seen started on `cluster` in a task snapshot taken at `at` (skylet's clock).
   * Returns true when this is the first sighting as started (a heartbeat can now confirm it).
   */
  markStarted(jobUid: string, cluster: string, rank: number, at: number): boolean {
    const e = this.entries.get(entryKey(jobUid, rank));
    if (!e || e.cluster !== cluster || e.observedAt !== undefined) return false;
    e.observedAt = at;
    return true;
  }

  /**
   * Releases replica `rank` of the job if it was observed started before `takenAt`, the
   * newest heartbeat already held for its cluster: a job update need not scan the cluster.
   */
  confirmOne(jobUid: string, rank: number, takenAt: number): boolean {
    const key = entryKey(jobUid, rank);
    const e = this.entries.get(key);
    return e !== undefined && e.observedAt !== undefined && e.observedAt < takenAt && this.releaseOne(key);
  }

  /**
   * A heartbeat whose snapshot was taken at `takenAt` shows the usage of every replica
   * observed started before it. Strictly before: times are whole milliseconds, and an
   * observation in the same millisecond may have come after the snapshot.
   */
  confirmHeartbeat(cluster: string, takenAt: number): number {
    const keys = this.byCluster.get(cluster);
    if (!keys) return 0;
    let n = 0;
    for (const k of [...keys]) {
      const e = this.entries.get(k);
      if (e && e.observedAt !== undefined && e.observedAt < takenAt && this.releaseOne(k)) n++;
    }
    return n;
  }

  /**
   * Drop reservations with no sign of life (reserve, sighting) for longer than the TTL; returns them.
   * `alive` is asked about each candidate first: one it vouches for is kept as seen now.
   */
  expire(now: number, alive?: (e: Readonly<Reservation>) => boolean): Reservation[] {
    const doomed = [...this.entries].filter(([, e]) => {
      if (now - Math.max(e.reservedAt, e.seenAt ?? -Infinity) <= this.ttlMs) return false;
      if (!alive?.(e)) return true;
      e.seenAt = now;
      return false;
    });
    for (const [k] of doomed) this.releaseOne(k);
    return doomed.map(([, e]) => e);
  }
  /** Everything reserved on one node (a copy; empty when nothing is). */
  freeOn(cluster: string, node: string): Resources {
    return { ...(this.totals.get(cluster)?.get(node) ?? {}) };
  }

  /** node -> reserved resources on a cluster; read-only view for capacity summaries. */
  reservedOn(cluster: string): ReadonlyMap<string, Readonly<Resources>> | undefined {
    return this.totals.get(cluster);
  }

  version(cluster: string): number {
    return this.versions.get(cluster) ?? 0;
  }

  list(jobUid?: string): Reservation[] {
    const all = [...this.entries.values()];
    return (jobUid === undefined ? all : all.filter((e) => e.jobUid === jobUid)).map((e) => ({ ...e, resources: { ...e.resources } }));
  }

  private releaseOne(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    const keys = this.byJob.get(e.jobUid);
    keys?.delete(key);
    if (keys?.size === 0) this.byJob.delete(e.jobUid);
    const onCluster = this.byCluster.get(e.cluster);
    onCluster?.delete(key);
    if (onCluster?.size === 0) this.byCluster.delete(e.cluster);
    this.apply(e, -1);
    return true;
  }

  private apply(e: Reservation, sign: 1 | -1): void {
    let nodes = this.totals.get(e.cluster);
    if (!nodes) this.totals.set(e.cluster, (nodes = new Map()));
    let total = nodes.get(e.node);
    if (!total) nodes.set(e.node, (total = {}));
    addInto(total, e.resources, sign);
    if (Object.keys(total).length === 0) nodes.delete(e.node);
    if (nodes.size === 0) this.totals.delete(e.cluster);
    this.versions.set(e.cluster, this.version(e.cluster) + 1);
  }
}
