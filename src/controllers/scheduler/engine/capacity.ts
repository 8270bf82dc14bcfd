/**
 * Per-cluster free-capacity summaries: node free vectors (allocatable minus
 * reservations), the largest free amount per resource, and totals. Cached by
 * the identity of the cluster's allocatable object and the ledger's version
 * for that cluster, so a decision over 100 clusters rebuilds only what changed
 * and the fit filter can reject a cluster from `largest` without a node scan.
 * Callers must replace (not mutate) `allocatable` when a heartbeat changes it.
 */
import { normalizeNode } from './resources.js';
import type { Reservations } from './reservations.js';
import type { NodeResources, Resources, SchedCluster } from './types.js';

export interface NodeFree {
  name: string;
  free: Resources;
}

export interface CapacitySummary {
  /** Sorted by node name so placement is deterministic. */
  nodes: NodeFree[];
  /** Per resource, the most any single node has free. */
  largest: Resources;
  /** Per resource, the sum over nodes. */
  total: Resources;
}

interface Entry {
  alloc: NodeResources;
  version: number;
  summary: CapacitySummary;
}

export class CapacityIndex {
  private readonly base = new WeakMap<NodeResources, NodeFree[]>();
  private readonly cache = new Map<string, Entry>();

  summary(cluster: SchedCluster, ledger: Reservations): CapacitySummary {
    const version = ledger.version(cluster.name);
    const hit = this.cache.get(cluster.name);
    if (hit && hit.alloc === cluster.allocatable && hit.version === version) return hit.summary;
    const summary = summarize(this.baseNodes(cluster.allocatable), ledger.reservedOn(cluster.name));
    this.cache.set(cluster.name, { alloc: cluster.allocatable, version, summary });
    return summary;
  }

  /** Forget clusters that no longer exist. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.cache.keys()) if (!names.has(name)) this.cache.delete(name);
  }

  private baseNodes(alloc: NodeResources): NodeFree[] {
    let nodes = this.base.get(alloc);
    if (!nodes) {
      nodes = Object.keys(alloc)
        .sort()
        .map((name) => ({ name, free: normalizeNode(alloc[name] ?? {}) }));
      this.base.set(alloc, nodes);
    }
    return nodes;
  }
}

function summarize(base: NodeFree[], reserved: ReadonlyMap<string, Readonly<Resources>> | undefined): CapacitySummary {
  const largest: Resources = {};
  const total: Resources = {};
  // A node can hold more reserved than its heartbeat shows free: the manager put other replicas there (its
  // packing is its own). Clamping that at 0 lost the excess — reserved replicas the manager does not show
  // yet vanished from the view, and a 10,000-job burst over-committed clusters 2x. The excess is charged to
  // the cluster's other nodes instead (in order, never below 0), so the total never counts promised room.
  const deficit: Resources = {};
  const nodes = base.map((node) => {
    const taken = reserved?.get(node.name);
    if (!taken) return node;
    const free: Resources = { ...node.free };
    for (const [key, amount] of Object.entries(taken)) {
      const left = (free[key] ?? 0) - amount;
      if (left < 0) deficit[key] = (deficit[key] ?? 0) - left;
      free[key] = Math.max(0, left);
    }
    return { name: node.name, free };
  });
  for (const [key, owed] of Object.entries(deficit)) {
    let left = owed;
    for (let i = 0; i < nodes.length && left > 0; i++) {
      const node = nodes[i] as NodeFree;
      const have = node.free[key] ?? 0;
      if (have <= 0) continue;
      const take = Math.min(have, left);
      // Copy-on-write: unreserved nodes are shared with the cached base list.
      nodes[i] = { name: node.name, free: { ...node.free, [key]: have - take } };
      left -= take;
    }
  }
  for (const node of nodes) {
    for (const [key, amount] of Object.entries(node.free)) {
      if (amount > (largest[key] ?? 0)) largest[key] = amount;
      total[key] = (total[key] ?? 0) + amount;
    }
  }
  return { nodes, largest, total };
}
