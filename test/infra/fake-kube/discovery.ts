/**
 * Discovery documents of the FAKE Kubernetes API server (/version, /api, /api/v1, /apis, /apis/{group}/{version}),
 * enough for kubectl's RESTMapper and client-node. Aggregated discovery is not served: kubectl falls back to these.
 */
import { RESOURCES, verbsOf, type ResourceInfo } from './resources.js';

export const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-fake-kube',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  eviction: ['create'],
  binding: ['create'],
};

const SUBRESOURCE_KIND: Record<string, { kind: string; group?: string; version?: string }> = {
  log: { kind: 'Pod' },
  exec: { kind: 'PodExecOptions' },
  attach: { kind: 'PodAttachOptions' },
  portforward: { kind: 'PodPortForwardOptions' },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1' },
  binding: { kind: 'Binding' },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1' },
};

function resourceList(groupVersion: string, list: ResourceInfo[]) {
  const resources = list.flatMap((r) => [
    {
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: verbsOf(r),
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.name === 'pods' || r.name === 'deployments' || r.name === 'services' ? { categories: ['all'] } : {}),
      storageVersionHash: Buffer.from(`${groupVersion}/${r.kind}`).toString('base64').slice(0, 11),
    },
    ...r.subresources.map((sub) => ({
      name: `${r.name}/${sub}`,
      singularName: '',
      namespaced: r.namespaced,
      ...(SUBRESOURCE_KIND[sub]?.group ? { group: SUBRESOURCE_KIND[sub].group, version: SUBRESOURCE_KIND[sub].version } : {}),
      kind: SUBRESOURCE_KIND[sub]?.kind ?? r.kind,
      verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

/** The discovery document at `pathname`, or undefined when it is not a discovery path. */
export function discovery(pathname: string, serverAddress: string): unknown {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/version') return VERSION;
  if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (p === '/api/v1')
    return resourceList(
      'v1',
      RESOURCES.filter((r) => r.group === ''),
    );
  const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => `${r.group}/${r.version}`))];
  if (p === '/apis')
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        const v = { groupVersion: gv, version };
        return { name, versions: [v], preferredVersion: v };
      }),
    };
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
  if (!m) return undefined;
  const gvs = groups.filter((gv) => gv.startsWith(`${m[1]}/`));
  if (gvs.length === 0) return undefined;
  if (!m[2]) {
    const v = { groupVersion: gvs[0]!, version: gvs[0]!.split('/')[1]! };
    return { kind: 'APIGroup', apiVersion: 'v1', name: m[1], versions: [v], preferredVersion: v };
  }
  const gv = `${m[1]}/${m[2]}`;
  if (!gvs.includes(gv)) return undefined;
  return resourceList(
    gv,
    RESOURCES.filter((r) => `${r.group}/${r.version}` === gv),
  );
}
