/**
 * Server-side tables (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) of the FAKE Kubernetes API server, with the
 * columns and cell wording of the real printers for pods, nodes, deployments, namespaces and services (others: NAME AGE),
 * so plain `kubectl get` prints what it prints against a real cluster.
 */
import type { ResourceInfo } from './resources.js';
import type { KubeObject, Node, Pod } from './types.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}
type Cell = string | number;
type Row = [KubeObject, Cell[]];

export const wantsTable = (accept: string | undefined) => (accept ?? '').split(',')[0]!.includes('as=Table');

const col = (name: string, priority = 0, type = 'string', format = ''): Column => ({ name, type, format, description: name, priority });

/** duration.HumanDuration, as kubectl's AGE column. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

const age = (o: KubeObject) => (o.metadata.creationTimestamp ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)) : '<unknown>');

function podRow(p: Pod): Cell[] {
  const statuses = p.status?.containerStatuses ?? [];
  let reason = p.status?.reason || p.status?.phase || 'Pending';
  let ready = 0;
  let restarts = 0;
  let lastRestart: string | undefined;
  for (const cs of [...statuses].reverse()) {
    restarts += cs.restartCount;
    const fin = cs.lastState.terminated?.finishedAt;
    if (fin && (!lastRestart || fin > lastRestart)) lastRestart = fin;
    if (cs.state.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state.terminated?.reason) reason = cs.state.terminated.reason;
    else if (cs.state.terminated) reason = cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`;
    else if (cs.ready && cs.state.running) ready++;
  }
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  const restartCell = lastRestart && restarts > 0 ? `${restarts} (${humanDuration(Date.now() - Date.parse(lastRestart))} ago)` : String(restarts);
  return [
    p.metadata.name!,
    `${ready}/${p.spec.containers.length}`,
    reason,
    restartCell,
    age(p),
    p.status?.podIP || '<none>',
    p.spec.nodeName || '<none>',
    '<none>',
    '<none>',
  ];
}

function nodeRow(n: Node): Cell[] {
  const ready = (n.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const status = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown', ...(n.spec?.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  const info = n.status?.nodeInfo ?? {};
  const addr = (t: string) => n.status?.addresses?.find((a) => a.type === t)?.address ?? '<none>';
  return [
    n.metadata.name!,
    status,
    roles.length ? roles.join(',') : '<none>',
    age(n),
    info.kubeletVersion ?? '',
    addr('InternalIP'),
    addr('ExternalIP'),
    info.osImage ?? '<unknown>',
    info.kernelVersion ?? '<unknown>',
    info.containerRuntimeVersion ?? '<unknown>',
  ];
}

function deploymentRow(d: KubeObject): Cell[] {
  const spec = (d.spec ?? {}) as {
    replicas?: number;
    template?: { spec?: { containers?: { name: string; image?: string }[] } };
    selector?: { matchLabels?: Record<string, string> };
  };
  const st = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
  const cs = spec.template?.spec?.containers ?? [];
  return [
    d.metadata.name!,
    `${st.readyReplicas ?? 0}/${spec.replicas ?? 1}`,
    st.updatedReplicas ?? 0,
    st.availableReplicas ?? 0,
    age(d),
    cs.map((c) => c.name).join(','),
    cs.map((c) => c.image ?? '').join(','),
    Object.entries(spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  ];
}

function serviceRow(s: KubeObject): Cell[] {
  const spec = (s.spec ?? {}) as {
    type?: string;
    clusterIP?: string;
    ports?: { port: number; protocol?: string; nodePort?: number }[];
    selector?: Record<string, string>;
  };
  const ports = (spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
  const selector = Object.entries(spec.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [s.metadata.name!, spec.type ?? 'ClusterIP', spec.clusterIP ?? '<none>', '<none>', ports || '<none>', age(s), selector || '<none>'];
}

const PRINTERS: Record<string, { columns: Column[]; row: (o: KubeObject) => Cell[] }> = {
  pods: {
    columns: [
      col('Name', 0, 'string', 'name'),
      col('Ready'),
      col('Status'),
      col('Restarts'),
      col('Age'),
      col('IP', 1),
      col('Node', 1),
      col('Nominated Node', 1),
      col('Readiness Gates', 1),
    ],
    row: (o) => podRow(o as Pod),
  },
  nodes: {
    columns: [
      col('Name', 0, 'string', 'name'),
      col('Status'),
      col('Roles'),
      col('Age'),
      col('Version'),
      col('Internal-IP', 1),
      col('External-IP', 1),
      col('OS-Image', 1),
      col('Kernel-Version', 1),
      col('Container-Runtime', 1),
    ],
    row: (o) => nodeRow(o as Node),
  },
  deployments: {
    columns: [
      col('Name', 0, 'string', 'name'),
      col('Ready'),
      col('Up-to-date', 0, 'integer'),
      col('Available', 0, 'integer'),
      col('Age'),
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    row: deploymentRow,
  },
  namespaces: {
    columns: [col('Name', 0, 'string', 'name'), col('Status'), col('Age')],
    row: (o) => [o.metadata.name!, String((o.status as { phase?: string } | undefined)?.phase ?? 'Active'), age(o)],
  },
  services: {
    columns: [col('Name', 0, 'string', 'name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age'), col('Selector', 1)],
    row: serviceRow,
  },
};

const GENERIC = { columns: [col('Name', 0, 'string', 'name'), col('Age')], row: (o: KubeObject) => [o.metadata.name!, age(o)] };

/** The Table of `objects`; rows carry each object's metadata (PartialObjectMetadata), as the default includeObject=Metadata. */
export function toTable(r: ResourceInfo, objects: KubeObject[], resourceVersion: string, cont?: string): unknown {
  const printer = PRINTERS[r.name] ?? GENERIC;
  const rows: Row[] = objects.map((o) => [o, printer.row(o)]);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: printer.columns,
    rows: rows.map(([o, cells]) => ({ cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } })),
  };
}
