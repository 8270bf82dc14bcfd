/**
 * `skyctl status` (reference §3.3 "status layout", kubectl-styled): the
 * clusters table, a TOTAL row for everything that is READY, and the jobs
 * still in flight across all namespaces. Pure: objects in, text or data out.
 */
import { styleText } from 'node:util';
import type { ApiObject } from '../../client/core.js';
import { formatAge } from './age.js';
import { buildTable } from './columns.js';
import { statusStyler } from './output.js';
import { orderedKeys } from './resources.js';
import { columnWidths, formatRow } from './table.js';

export const TOTAL_NAME = 'TOTAL';
/**
 * INIT is included with the reference's ACTIVE and PENDING: a job the
 * scheduler has not looked at yet is just as unfinished.
 */
export const UNFINISHED_PHASES: readonly string[] = ['INIT', 'PENDING', 'ACTIVE'];

type PerNode = Record<string, Record<string, number>>;
type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const phaseOf = (o: ApiObject): string => (typeof rec(o.status).phase === 'string' ? (rec(o.status).phase as string) : 'INIT');
const created = (o: ApiObject): number => Date.parse(o.metadata.creationTimestamp ?? '') || 0;

export interface StatusOptions {
  color: boolean;
  now?: Date;
}

/**
 * The merged cluster: per-node allocatable/capacity of every READY cluster.
 * Node names are prefixed with the cluster so two clusters' `node-0` do not
 * overwrite each other (the reference's dict.update lost them).
 */
export function totalCluster(clusters: readonly ApiObject[]): ApiObject {
  const ready = clusters.filter((c) => phaseOf(c) === 'READY');
  const capacity: PerNode = {};
  const allocatable: PerNode = {};
  for (const c of ready) {
    for (const [node, r] of Object.entries(rec(rec(c.status).capacity))) capacity[`${c.metadata.name}/${node}`] = rec(r) as Record<string, number>;
    for (const [node, r] of Object.entries(rec(rec(c.status).allocatable))) allocatable[`${c.metadata.name}/${node}`] = rec(r) as Record<string, number>;
  }
  const oldest = [...clusters].sort((a, b) => created(a) - created(b))[0];
  return {
    kind: 'Cluster',
    metadata: { name: TOTAL_NAME, ...(oldest?.metadata.creationTimestamp !== undefined && { creationTimestamp: oldest.metadata.creationTimestamp }) },
    spec: { manager: 'skyshift' },
    status: { phase: ready.length > 0 ? 'READY' : 'ERROR', capacity, allocatable },
  };
}

/** Unfinished jobs, newest first (ties by namespace/name so the order is stable). */
export function activeJobs(jobs: readonly ApiObject[]): ApiObject[] {
  const key = (j: ApiObject) => `${j.metadata.namespace ?? ''}/${j.metadata.name}`;
  return jobs.filter((j) => UNFINISHED_PHASES.includes(phaseOf(j))).sort((a, b) => created(b) - created(a) || key(a).localeCompare(key(b)));
}

export function renderStatus(clusters: readonly ApiObject[], jobs: readonly ApiObject[], options: StatusOptions): string {
  const now = options.now ?? new Date();
  const heading = (s: string) => (options.color ? styleText(['bold', 'blue'], s) : s);
  let out = `${heading('Clusters')}\n`;
  const sorted = [...clusters].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const table = buildTable('Cluster', sorted, { wide: false, withNamespace: false, now });
  const total = buildTable('Cluster', [totalCluster(clusters)], { wide: false, withNamespace: false, now });
  const totalRow = total.rows[0] ?? [];
  // One set of widths for the clusters and the TOTAL row so they line up.
  const widths = columnWidths([table.headers, ...table.rows, totalRow]);
  const style = options.color ? statusStyler(table.statusColumn) : undefined;
  const lines = [formatRow(table.headers, widths), ...table.rows.map((r) => formatRow(r, widths, style))];
  const rule = '='.repeat(
    Math.max(...[formatRow(table.headers, widths), ...table.rows.map((r) => formatRow(r, widths)), formatRow(totalRow, widths)].map((l) => l.length)),
  );
  if (table.rows.length === 0) lines.push('No clusters found.');
  out += lines.join('\n') + '\n' + rule + '\n' + formatRow(totalRow, widths, style) + '\n';

  out += `\n${heading('Jobs')}\n`;
  const active = activeJobs(jobs);
  if (active.length === 0) return out + 'No active jobs.\n';
  const jt = buildTable('Job', active, { wide: false, withNamespace: true, now });
  const jwidths = columnWidths([jt.headers, ...jt.rows]);
  const jstyle = options.color ? statusStyler(jt.statusColumn) : undefined;
  return out + [formatRow(jt.headers, jwidths), ...jt.rows.map((r) => formatRow(r, jwidths, jstyle))].join('\n') + '\n';
}

function sumNodes(perNode: unknown): Record<string, number> {
  const total = new Map<string, number>();
  for (const node of Object.values(rec(perNode))) {
    for (const [k, v] of Object.entries(rec(node))) if (typeof v === 'number') total.set(k, (total.get(k) ?? 0) + v);
  }
  return Object.fromEntries(orderedKeys(total.keys()).map((k) => [k, Math.round((total.get(k) ?? 0) * 100) / 100]));
}

export interface StatusSummary {
  clusters: {
    name: string;
    manager: string;
    phase: string;
    labels: Record<string, string>;
    allocatable: Record<string, number>;
    capacity: Record<string, number>;
    age: string;
  }[];
  total: { clusters: number; ready: number; phase: string; allocatable: Record<string, number>; capacity: Record<string, number> };
  jobs: { namespace: string; name: string; phase: string; replicas: number; clusters: Record<string, Record<string, number>>; age: string }[];
}

/** `-o json|yaml`: the same facts as the tables, with amounts as numbers (memory in MiB). */
export function statusSummary(clusters: readonly ApiObject[], jobs: readonly ApiObject[], now: Date = new Date()): StatusSummary {
  const total = totalCluster(clusters);
  const sorted = [...clusters].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return {
    clusters: sorted.map((c) => ({
      name: c.metadata.name,
      manager: String(rec(c.spec).manager ?? ''),
      phase: phaseOf(c),
      labels: c.metadata.labels ?? {},
      allocatable: sumNodes(rec(c.status).allocatable),
      capacity: sumNodes(rec(c.status).capacity),
      age: formatAge(c.metadata.creationTimestamp, now),
    })),
    total: {
      clusters: clusters.length,
      ready: clusters.filter((c) => phaseOf(c) === 'READY').length,
      phase: phaseOf(total),
      allocatable: sumNodes(rec(total.status).allocatable),
      capacity: sumNodes(rec(total.status).capacity),
    },
    jobs: activeJobs(jobs).map((j) => ({
      namespace: j.metadata.namespace ?? '',
      name: j.metadata.name,
      phase: phaseOf(j),
      replicas: typeof rec(j.spec).replicas === 'number' ? (rec(j.spec).replicas as number) : 1,
      clusters: rec(rec(j.status).replicaStatus) as Record<string, Record<string, number>>,
      age: formatAge(j.metadata.creationTimestamp, now),
    })),
  };
}
