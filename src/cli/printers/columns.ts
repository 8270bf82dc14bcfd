/**
 * Every kind's `get` columns in one place (reference §3.3, kept; `-o wide`
 * adds columns at the end). One object may yield several rows (a job has one
 * per cluster it runs in).
 */
import type { ApiObject } from '../../client/core.js';
import { formatAge } from './age.js';
import { formatClusterResources, formatRequests } from './resources.js';

export interface TableOptions {
  wide: boolean;
  /** Prefix a NAMESPACE column (for -A) unless the kind already shows one. */
  withNamespace: boolean;
  now: Date;
}

interface KindColumns {
  headers: string[];
  wide?: string[];
  /** Kinds whose table already has NAMESPACE (reference columns) need no -A prefix. */
  hasNamespace?: boolean;
  rows(obj: ApiObject, now: Date): { base: string[]; wide?: string[] }[];
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const str = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : dflt);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const none = (s: string): string => (s === '' ? '<none>' : s);

export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function age(obj: ApiObject, now: Date): string {
  return formatAge(obj.metadata.creationTimestamp, now);
}

function phase(obj: ApiObject): string {
  const s = rec(obj.status);
  return str(s.phase) || str(s.status) || '<unknown>';
}

function lastCondition(obj: ApiObject): Rec | undefined {
  const conds = list(rec(obj.status).conditions);
  const last = conds[conds.length - 1];
  return last === undefined ? undefined : rec(last);
}

/** Reference §1.2: per-cluster status from replica counts, computed client-side. */
export function clusterReplicaState(counts: Record<string, number>): { status: string; active: number; total: number } {
  const n = (k: string) => counts[k] ?? 0;
  const total = Object.values(counts).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  const active = n('RUNNING') + n('COMPLETED');
  let status: string;
  if (active === 0) status = n('FAILED') > 0 ? 'FAILED' : n('EVICTED') > 0 ? 'EVICTED' : 'PENDING';
  else if (active !== total) status = 'RUNNING';
  else status = n('COMPLETED') === total ? 'COMPLETED' : 'RUNNING';
  return { status, active, total };
}

const COLUMNS: Record<string, KindColumns> = {
  Cluster: {
    headers: ['NAME', 'MANAGER', 'LABELS', 'RESOURCES', 'STATUS', 'AGE'],
    wide: ['NODES', 'MESSAGE'],
    rows(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const capacity = rec(status.capacity) as Record<string, Record<string, number>>;
      const allocatable = rec(status.allocatable) as Record<string, Record<string, number>>;
      return [
        {
          base: [
            // The raw kubeconfig-context form the user typed, when the server normalised it.
            obj.metadata.annotations?.['skyshift.io/display-name'] ?? obj.metadata.name,
            str(spec.manager, '<unknown>'),
            formatLabels(obj.metadata.labels),
            formatClusterResources(allocatable, capacity),
            phase(obj),
            age(obj, now),
          ],
          wide: [String(Object.keys(capacity).length), none(str(status.message))],
        },
      ];
    },
  },
  Job: {
    headers: ['NAME', 'CLUSTER', 'REPLICAS', 'RESOURCES', 'NAMESPACE', 'STATUS', 'AGE'],
    wide: ['IMAGE', 'RUN'],
    hasNamespace: true,
    rows(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const resources = formatRequests(rec(spec.resources));
      const wide = [none(str(spec.image)), none(str(spec.run))];
      const ns = obj.metadata.namespace ?? '';
      const replicaStatus = rec(status.replicaStatus);
      const clusters = Object.keys(replicaStatus).sort();
      if (clusters.length === 0) {
        const st = str(status.phase) || str(lastCondition(obj)?.type) || 'INIT';
        return [{ base: [obj.metadata.name, '', `0/${str(spec.replicas, '1')}`, resources, ns, st, age(obj, now)], wide }];
      }
      return clusters.map((cluster) => {
        const s = clusterReplicaState(rec(replicaStatus[cluster]) as Record<string, number>);
        return { base: [obj.metadata.name, cluster, `${s.active}/${s.total}`, resources, ns, s.status, age(obj, now)], wide };
      });
    },
  },
  Namespace: {
    headers: ['NAME', 'STATUS', 'AGE'],
    rows: (obj, now) => [{ base: [obj.metadata.name, str(rec(obj.status).phase) || str(rec(obj.status).status) || 'ACTIVE', age(obj, now)] }],
  },
  FilterPolicy: {
    headers: ['NAME', 'INCLUDE', 'EXCLUDE', 'LABELS', 'NAMESPACE', 'STATUS', 'AGE'],
    hasNamespace: true,
    rows(obj, now) {
      const spec = rec(obj.spec);
      const filter = rec(spec.clusterFilter);
      const join = (v: unknown) =>
        none(
          list(v)
            .map((x) => str(x))
            .join(','),
        );
      return [
        {
          base: [
            obj.metadata.name,
            join(filter.include),
            join(filter.exclude),
            formatLabels(rec(spec.labelsSelector) as Record<string, string>),
            obj.metadata.namespace ?? '',
            str(rec(obj.status).phase) || str(rec(obj.status).status) || 'ACTIVE',
            age(obj, now),
          ],
        },
      ];
    },
  },
  Service: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORTS', 'CLUSTER', 'NAMESPACE', 'AGE'],
    hasNamespace: true,
    rows(obj, now) {
      const spec = rec(obj.spec);
      const ports = list(spec.ports)
        .map((p) => `${str(rec(p).port)}:${str(rec(p).targetPort)}`)
        .join(';');
      return [
        {
          base: [
            obj.metadata.name,
            str(spec.type, 'ClusterIP'),
            none(str(spec.clusterIp) || str(spec.clusterIP)),
            none(str(rec(obj.status).externalIp) || str(rec(obj.status).externalIP)),
            none(ports),
            none(str(spec.primaryCluster)),
            obj.metadata.namespace ?? '',
            age(obj, now),
          ],
        },
      ];
    },
  },
  Link: {
    headers: ['NAME', 'SOURCE', 'TARGET', 'STATUS', 'AGE'],
    rows(obj, now) {
      const spec = rec(obj.spec);
      return [{ base: [obj.metadata.name, str(spec.sourceCluster), str(spec.targetCluster), phase(obj), age(obj, now)] }];
    },
  },
  Endpoints: {
    headers: ['NAME', 'NAMESPACE', 'ENDPOINTS', 'AGE'],
    hasNamespace: true,
    rows(obj, now) {
      const eps = Object.entries(rec(rec(obj.spec).endpoints))
        .map(([cluster, e]) => `${cluster}: ${str(rec(e).numEndpoints, '0')}`)
        .join(', ');
      return [{ base: [obj.metadata.name, obj.metadata.namespace ?? '', none(eps), age(obj, now)] }];
    },
  },
  Event: {
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    rows(obj, now) {
      const spec = rec(obj.spec);
      const involved = rec(spec.involvedObject);
      // Same fallback order as the sort in events.ts, so LAST SEEN and the order agree.
      const when = str(spec.lastTimestamp) || str(spec.firstTimestamp) || obj.metadata.creationTimestamp;
      return [
        {
          base: [
            formatAge(when, now),
            str(spec.type, 'Normal'),
            str(spec.reason),
            `${str(involved.kind).toLowerCase()}/${str(involved.name)}`,
            str(spec.message),
          ],
        },
      ];
    },
  },
  Lease: {
    headers: ['NAME', 'HOLDER', 'AGE'],
    rows(obj, now) {
      const spec = rec(obj.spec);
      return [{ base: [obj.metadata.name, none(str(spec.holderIdentity) || str(spec.holder)), age(obj, now)] }];
    },
  },
};

const GENERIC: KindColumns = {
  headers: ['NAME', 'AGE'],
  rows: (obj, now) => [{ base: [obj.metadata.name, age(obj, now)] }],
};

export interface Table {
  headers: string[];
  rows: string[][];
  /** Index of the STATUS column (for colouring), or -1. */
  statusColumn: number;
}

export function buildTable(kind: string, objects: readonly ApiObject[], options: TableOptions): Table {
  const cols = COLUMNS[kind] ?? GENERIC;
  const prefix = options.withNamespace && !cols.hasNamespace;
  const headers = [...(prefix ? ['NAMESPACE'] : []), ...cols.headers, ...(options.wide ? (cols.wide ?? []) : [])];
  const rows: string[][] = [];
  for (const obj of objects) {
    for (const r of cols.rows(obj, options.now)) {
      rows.push([...(prefix ? [obj.metadata.namespace ?? ''] : []), ...r.base, ...(options.wide ? (r.wide ?? []) : [])]);
    }
  }
  return { headers, rows, statusColumn: headers.indexOf('STATUS') };
}
