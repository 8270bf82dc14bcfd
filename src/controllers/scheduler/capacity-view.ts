/**
 * The scheduler's in-memory view of the clusters: SchedCluster records kept up
 * to date from informer events (not rebuilt per pass), plus a capacity
 * generation. The generation moves only when a job that did not fit might fit
 * now — free capacity grew somewhere, a cluster appeared or became READY, its
 * labels or the FilterPolicies changed — so jobs that did not fit at the
 * current generation are not decided again on every event.
 */
import type { Reservations, SchedCluster, Scheduler } from './engine/index.js';
import { type Cluster } from '../../api/index.js';

const EMPTY: Record<string, Record<string, number>> = {};

export class CapacityView {
  private readonly byName = new Map<string, SchedCluster>();
  /** cluster -> snapshot time of the heartbeat its allocatable comes from (the skylet's clock). */
  private readonly heartbeats = new Map<string, number>();
  private sorted: SchedCluster[] | undefined;
  private gen = 0;

  constructor(
    private readonly engine: Scheduler,
    private readonly reservations: Reservations,
  ) {}

  get generation(): number {
    return this.gen;
  }

  /** Something outside the view freed capacity or changed eligibility (released reservations, policies). */
  bump(): void {
    this.gen++;
  }

  /** Clusters sorted by name (the engine's tie-break relies on a stable order). */
  list(): readonly SchedCluster[] {
    this.sorted ??= [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sorted;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** When the heartbeat behind a cluster's allocatable was taken; undefined before the first one. */
  heartbeatOf(name: string): number | undefined {
    return this.heartbeats.get(name);
  }

  /**
   * A cluster was added or changed. `heartbeatAt` (the snapshot time of its
   * allocatable) first drops the reservations that the snapshot already shows,
   * so they are not counted twice; then the generation moves if any node has
   * more free than before.
   */
  upsert(c: Cluster, heartbeatAt?: number): void {
    const name = c.metadata.name;
    const old = this.byName.get(name);
    const before = old ? this.engine.capacity.summary(old, this.reservations) : undefined;
    if (heartbeatAt !== undefined && !Number.isNaN(heartbeatAt)) {
      this.reservations.confirmHeartbeat(name, heartbeatAt);
      this.heartbeats.set(name, Math.max(heartbeatAt, this.heartbeats.get(name) ?? heartbeatAt));
    }
    const next: SchedCluster = {
      name,
      phase: c.status?.phase ?? 'INIT',
      ...(c.status?.message ? { message: c.status.message } : {}),
      labels: c.metadata.labels ?? {},
      allocatable: c.status?.allocatable ?? EMPTY,
      ...(c.status?.capacity ? { capacity: c.status.capacity } : {}),
    };
    this.byName.set(name, next);
    this.sorted = undefined;
    if (!old || !before || old.phase !== next.phase || !sameLabels(old.labels ?? {}, next.labels ?? {})) {
      this.gen++;
      return;
    }
    const after = this.engine.capacity.summary(next, this.reservations);
    if (grew(before.nodes, after.nodes)) this.gen++;
  }

  remove(name: string): void {
    this.heartbeats.delete(name);
    if (!this.byName.delete(name)) return;
    this.sorted = undefined;
    this.engine.capacity.retain(new Set(this.byName.keys()));
    // Jobs rejected for reasons naming this cluster get a fresh message.
    this.gen++;
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Whether any node has more of any resource free (or appeared). Both lists are sorted by node name. */
function grew(before: readonly { name: string; free: Record<string, number> }[], after: readonly { name: string; free: Record<string, number> }[]): boolean {
  const old = new Map(before.map((n) => [n.name, n.free]));
  for (const n of after) {
    const prev = old.get(n.name);
    if (!prev) return true;
    for (const [k, v] of Object.entries(n.free)) if (v > (prev[k] ?? 0)) return true;
  }
  return false;
}
