/**
 * A minimal OpenAPI v3 of the FAKE Kubernetes API server: the root index and, per group-version, the PATCH operations
 * with their x-kubernetes-group-version-kind and the `fieldValidation` parameter. That is what kubectl 1.32 reads to
 * decide on server-side field validation for `apply`/`create` (it then sends fieldValidation=Strict and needs no schemas).
 * Schemas themselves are not served.
 */
import { RESOURCES } from './resources.js';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

export function openapiV3(pathname: string): unknown {
  const gvs = [...new Set(RESOURCES.map((r) => gvPath(r.group, r.version)))];
  if (pathname === '/openapi/v3' || pathname === '/openapi/v3/')
    return { paths: Object.fromEntries(gvs.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=FAKEKUBE0001` }])) };
  const gv = pathname.replace(/^\/openapi\/v3\//, '');
  if (!gvs.includes(gv)) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((x) => gvPath(x.group, x.version) === gv)) {
    const base = r.namespaced ? `/${gv}/namespaces/{namespace}/${r.name}` : `/${gv}/${r.name}`;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string' } }));
    paths[`${base}/{name}`] = {
      patch: { operationId: `patch${r.kind}`, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters: params },
    };
    paths[base] = { post: { operationId: `create${r.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: params } };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (fake-kube)', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
