/**
 * Capacity the scheduler has promised but heartbeats do not show yet.
 *
 * Why: clusters report allocatable every few seconds; without a ledger a burst
 * of jobs placed between two heartbeats would all see the same free capacity
 * and over-commit. Every placed replica reserves its demand on (cluster, node);
 * the reservation is dropped when the capacity it stands for becomes visible
 * in a heartbeat, so it is never counted twice:
 *
 *  - markSubmitted(uid, cluster, at): the flow controller has handed the
 *    replicas to the cluster manager at time `at`;
 *  - confirmHeartbeat(cluster, observedAt): a heartbeat whose snapshot was
 *    taken at `observedAt` > submittedAt already subtracts those replicas;
 *  - confirmObserved(cluster, [{uid, rank}]): job sync saw the replicas on
 *    the cluster (stronger evidence than timing);
 *  - release(uid[, rank]): job deleted, replica evicted or finished;
 *  - expire(now): safety net so a lost submission cannot pin capacity forever.
 *
 * All times are plain epoch milliseconds passed in, so the ledger is pure.
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
  submittedAt?: number;
}

export interface ReservationsOptions {
  /** Drop reservations older than this even if never confirmed. Default 5 minutes. */
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
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
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

  /** Release all of a job's reservations, or only one rank's. Returns how many were dropped. */
  release(jobUid: string, rank?: number): number {
    if (rank !== undefined) return this.releaseOne(entryKey(jobUid, rank)) ? 1 : 0;
    const keys = this.byJob.get(jobUid);
    if (!keys) return 0;
    let n = 0;
    for (const k of [...keys]) if (this.releaseOne(k)) n++;
    return n;
  }

  /** The job's replicas on `cluster` were handed to its manager at `at`. */
  markSubmitted(jobUid: string, cluster: string, at: number): void {
    for (const k of this.byJob.get(jobUid) ?? []) {
      const e = this.entries.get(k);
      if (e && e.cluster === cluster && e.submittedAt === undefined) e.submittedAt = at;
    }
  }

  /**
   * A heartbeat observed at `observedAt` reflects every submission made before it.
   * Strictly before: times are whole milliseconds, and a submission in the same
   * millisecond may have come just after the snapshot — dropping its reservation
   * would let the next decision use capacity the snapshot does not show as taken
   * (seen as over-commit when a 10,000-job backlog met fresh sim clusters). It is
   * confirmed by the next heartbeat instead.
   */
  confirmHeartbeat(cluster: string, observedAt: number): number {
    const keys = this.byCluster.get(cluster);
    if (!keys) return 0;
    let n = 0;
    for (const k of [...keys]) {
      const e = this.entries.get(k);
      if (e && e.submittedAt !== undefined && e.submittedAt < observedAt && this.releaseOne(k)) n++;
    }
    return n;
  }

  /** Replicas seen running on the cluster no longer need a reservation there. */
  confirmObserved(cluster: string, seen: Iterable<{ jobUid: string; rank: number }>): number {
    let n = 0;
    for (const { jobUid, rank } of seen) {
      const e = this.entries.get(entryKey(jobUid, rank));
      if (e && e.cluster === cluster && this.releaseOne(entryKey(jobUid, rank))) n++;
    }
    return n;
  }

  /** Drop reservations older than the TTL. */
  expire(now: number): number {
    return this.dropWhere((e) => now - e.reservedAt > this.ttlMs);
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

  private dropWhere(pred: (e: Reservation) => boolean): number {
    const doomed = [...this.entries].filter(([, e]) => pred(e)).map(([k]) => k);
    for (const k of doomed) this.releaseOne(k);
    return doomed.length;
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
