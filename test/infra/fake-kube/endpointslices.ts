/**
 * The FAKE endpointslice controller: one EndpointSlice per Service with a selector (labelled kubernetes.io/service-name,
 * owned by the Service), listing the matching pods that have an IP, with ready/serving/terminating conditions.
 */
import type { FakeApi } from './api.js';
import { randomSuffix } from './defaults.js';
import { isTerminal } from './scheduler.js';
import type { KubeObject, Pod } from './types.js';

const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export function reconcileService(api: FakeApi, svc: KubeObject): void {
  const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: ServicePort[] };
  if (!spec.selector || Object.keys(spec.selector).length === 0) return;
  const ns = svc.metadata.namespace!;
  const name = svc.metadata.name!;
  const pods = (api.store.list('pods', ns) as Pod[]).filter(
    (p) => p.status?.podIP && !isTerminal(p) && Object.entries(spec.selector!).every(([k, v]) => p.metadata.labels?.[k] === v),
  );
  const endpoints = pods.map((p) => {
    const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    const terminating = Boolean(p.metadata.deletionTimestamp);
    return {
      addresses: [p.status!.podIP!],
      conditions: { ready: ready && !terminating, serving: ready, terminating },
      nodeName: p.spec.nodeName,
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
    };
  });
  const ports = (spec.ports ?? []).map((sp) => {
    let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
    if (typeof sp.targetPort === 'string') {
      const named = pods
        .flatMap((p) => p.spec.containers.flatMap((c) => (c.ports as { name?: string; containerPort: number }[] | undefined) ?? []))
        .find((cp) => cp.name === sp.targetPort);
      port = named?.containerPort ?? (/^\d+$/.test(sp.targetPort) ? Number(sp.targetPort) : sp.port);
    }
    return { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
  });
  const existing = api.store.list('endpointslices', ns).find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === name);
  const body = { addressType: 'IPv4', endpoints, ports };
  if (existing && JSON.stringify({ addressType: existing.addressType, endpoints: existing.endpoints, ports: existing.ports }) === JSON.stringify(body)) return;
  const metadata = existing?.metadata ?? {
    name: `${name}-${randomSuffix()}`,
    namespace: ns,
    labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
  };
  api.store.write('endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, ...body });
}
