/** The resources the FAKE Kubernetes API server serves, and the parsing of API paths into (resource, namespace, name, subresource). */

export interface ResourceInfo {
  /** plural, e.g. `pods` */
  name: string;
  singular: string;
  kind: string;
  /** '' for the core group */
  group: string;
  version: string;
  namespaced: boolean;
  shortNames?: string[];
  /** subresources served (`status`, `log`, `exec`, ...) */
  subresources: string[];
  /** The verbs discovery advertises. */
  verbs?: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceInfo[] = [
  { name: 'namespaces', singular: 'namespace', kind: 'Namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'], subresources: ['status'] },
  { name: 'nodes', singular: 'node', kind: 'Node', group: '', version: 'v1', namespaced: false, shortNames: ['no'], subresources: ['status'] },
  {
    name: 'pods',
    singular: 'pod',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['status', 'log', 'exec', 'attach', 'portforward', 'eviction', 'binding'],
  },
  { name: 'services', singular: 'service', kind: 'Service', group: '', version: 'v1', namespaced: true, shortNames: ['svc'], subresources: ['status'] },
  { name: 'configmaps', singular: 'configmap', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true, shortNames: ['cm'], subresources: [] },
  { name: 'secrets', singular: 'secret', kind: 'Secret', group: '', version: 'v1', namespaced: true, subresources: [] },
  { name: 'events', singular: 'event', kind: 'Event', group: '', version: 'v1', namespaced: true, shortNames: ['ev'], subresources: [] },
  {
    name: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
  },
  { name: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', namespaced: true, subresources: [] },
];

export const verbsOf = (r: ResourceInfo) =>
  r.verbs ?? (r.name === 'nodes' || r.name === 'namespaces' ? ALL_VERBS.filter((v) => v !== 'deletecollection') : ALL_VERBS);

export const apiVersionOf = (r: ResourceInfo) => (r.group ? `${r.group}/${r.version}` : r.version);

export function findResource(group: string, version: string, name: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
}

export function resourceByName(name: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.name === name);
  if (!r) throw new Error(`fake-kube: no resource ${name}`);
  return r;
}

export interface ApiPath {
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** the legacy `/api/v1/watch/...` prefix */
  watchPrefix: boolean;
}

/**
 * `/api/v1/[watch/][namespaces/{ns}/]{resource}[/{name}[/{sub}]]` and the same under `/apis/{group}/{version}`.
 * Returns undefined for paths that name no resource the fake serves (the caller answers 404).
 */
export function parseApiPath(pathname: string): ApiPath | undefined {
  const segs = pathname.split('/').filter(Boolean).map(safeDecode);
  if (segs.some((s) => s === undefined)) return undefined;
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) [group, version, rest] = ['', segs[1]!, segs.slice(2) as string[]];
  else if (segs[0] === 'apis' && segs.length >= 4) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3) as string[]];
  else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{resource}...: a namespaced resource; namespaces/{ns}[/status]: the namespace object itself
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2]!)?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [res, name, sub, ...extra] = rest;
  if (!res || extra.length > 0) return undefined;
  const resource = findResource(group, version, res);
  if (!resource) return undefined;
  if (!resource.namespaced && namespace !== undefined) return undefined;
  if (sub !== undefined && !resource.subresources.includes(sub)) return undefined;
  return { resource, namespace, name, subresource: sub, watchPrefix };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
