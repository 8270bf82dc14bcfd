/**
 * The verbs of the FAKE Kubernetes API server over its store: get, list, create, update (PUT, resourceVersion
 * preconditions), patch, delete (pods gracefully, owners cascading to their dependents), deletecollection, and the
 * status and scale subresources. HTTP-free: http.ts parses requests and calls these.
 */
import { deploymentCauses, podUpdateCauses, prepareCreate, statusCauses } from './defaults.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, RESOURCES, resourceByName, type ResourceInfo } from './resources.js';
import { matchFields, matchLabels, type FieldSelector, type LabelSelector } from './selectors.js';
import { alreadyExists, badRequest, conflict, failure, invalid, notFound, success, type Status } from './status.js';
import { nowSeconds, type FakeStore } from './store.js';
import { isRecord, type KubeObject, type Pod } from './types.js';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const hasStatus = (r: ResourceInfo) => r.subresources.includes('status');

export class FakeApi {
  private nextClusterIp = 10;

  constructor(readonly store: FakeStore) {}

  /** The stored object with kind and apiVersion set, as a GET returns it. */
  withKind(r: ResourceInfo, obj: KubeObject): KubeObject {
    return { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
  }

  get(r: ResourceInfo, ns: string | undefined, name: string): KubeObject {
    const obj = this.store.get(r.name, ns, name);
    if (!obj) throw notFound(r.name, r.group, name);
    return this.withKind(r, obj);
  }

  list(r: ResourceInfo, ns: string | undefined, labels: LabelSelector, fields: FieldSelector): { items: KubeObject[]; resourceVersion: string } {
    const items = this.store.list(r.name, ns).filter((o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, o));
    return { items, resourceVersion: String(this.store.resourceVersion) };
  }

  create(r: ResourceInfo, ns: string | undefined, body: unknown): KubeObject {
    const obj = this.checkBody(r, ns, body);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const)
      delete obj.metadata[k];
    prepareCreate(r, obj);
    if (r.namespaced && !this.store.get('namespaces', undefined, ns!)) throw notFound('namespaces', '', ns!);
    if (this.store.get(r.name, ns, obj.metadata.name!)) throw alreadyExists(r.name, r.group, obj.metadata.name!);
    if (r.name === 'services') this.allocateClusterIp(obj);
    return this.withKind(r, this.store.write(r.name, this.withKind(r, obj)));
  }

  update(r: ResourceInfo, ns: string | undefined, name: string, body: unknown, sub?: string): KubeObject {
    if (sub === 'scale') return this.updateScale(r, ns, name, body);
    const obj = this.checkBody(r, ns, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    const current = this.store.get(r.name, ns, name);
    if (!current) throw notFound(r.name, r.group, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(r.name, r.group, name);
    if (current.metadata.uid && obj.metadata.uid && obj.metadata.uid !== current.metadata.uid)
      throw failure(409, 'Conflict', `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
    let next: KubeObject;
    if (sub === 'status') {
      const causes = statusCauses(r, obj.status);
      if (causes.length) throw invalid(r.kind, r.group, name, causes);
      next = { ...current, status: obj.status };
    } else {
      next = { ...obj, metadata: { ...obj.metadata, name, namespace: current.metadata.namespace } };
      if (hasStatus(r)) next.status = current.status;
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (current.metadata[k] === undefined) delete next.metadata[k];
        else next.metadata[k] = current.metadata[k] as never;
      }
      if (r.name === 'deployments' && JSON.stringify(current.spec) !== JSON.stringify(next.spec))
        next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      const causes = r.name === 'pods' ? podUpdateCauses(current as Pod, next as Pod) : r.name === 'deployments' ? deploymentCauses(next) : [];
      if (causes.length) throw invalid(r.kind, r.group, name, causes);
    }
    return this.withKind(r, this.store.write(r.name, this.withKind(r, next)));
  }

  patch(r: ResourceInfo, ns: string | undefined, name: string, contentType: string, body: unknown, sub?: string): KubeObject {
    const current = sub === 'scale' ? this.getScale(r, ns, name) : this.get(r, ns, name);
    let patched: unknown;
    if (contentType.startsWith('application/json-patch+json')) patched = jsonPatch(current, body);
    else if (contentType.startsWith('application/merge-patch+json')) patched = mergePatch(current, body);
    else if (contentType.startsWith('application/strategic-merge-patch+json')) patched = strategicMergePatch(current, body);
    else if (contentType.startsWith('application/apply-patch'))
      throw failure(415, 'UnsupportedMediaType', `the fake Kubernetes API server does not implement server-side apply (${contentType})`);
    else
      throw failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    if (!isRecord(patched) || !isRecord(patched.metadata)) throw badRequest('the patched object is not an object with metadata');
    // a patch carries the resourceVersion only when the client asked for the precondition
    const patchRv = isRecord(body) && isRecord(body.metadata) ? body.metadata.resourceVersion : undefined;
    if (patchRv === undefined) (patched.metadata as Record<string, unknown>).resourceVersion = undefined;
    return this.update(r, ns, name, patched, sub);
  }

  /** Deletes one object. Pods on a node terminate gracefully (deletionTimestamp; the kubelet removes them once stopped). */
  delete(r: ResourceInfo, ns: string | undefined, name: string, opts: DeleteOptions): { code: number; body: KubeObject | Status } {
    const current = this.store.get(r.name, ns, name);
    if (!current) throw notFound(r.name, r.group, name);
    if (r.name === 'namespaces' && ['default', 'kube-system', 'kube-public'].includes(name))
      throw failure(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid)
      throw failure(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
      throw failure(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    if (r.name === 'pods') {
      const pod = current as Pod;
      const grace = opts.gracePeriodSeconds ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      const running = pod.spec.nodeName && !TERMINAL.has(pod.status?.phase ?? '');
      if (running && grace > 0) {
        if (pod.metadata.deletionTimestamp && (pod.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return { code: 200, body: this.withKind(r, current) };
        const deletionTimestamp = nowSeconds(new Date(Date.now() + grace * 1000));
        const next = { ...pod, metadata: { ...pod.metadata, deletionTimestamp, deletionGracePeriodSeconds: grace } };
        return { code: 200, body: this.withKind(r, this.store.write(r.name, next)) };
      }
    }
    const removed = this.remove(r, ns, name)!;
    if (r.name === 'pods') return { code: 200, body: this.withKind(r, removed) };
    return { code: 200, body: success({ name, ...(r.group ? { group: r.group } : {}), kind: r.name, uid: removed.metadata.uid }) };
  }

  /** Removes an object at once and, as the garbage collector would, deletes its dependents (and a namespace's contents). */
  remove(r: ResourceInfo, ns: string | undefined, name: string): KubeObject | undefined {
    const removed = this.store.remove(r.name, ns, name);
    if (!removed) return undefined;
    const uid = removed.metadata.uid;
    for (const dep of RESOURCES.filter((x) => x.namespaced)) {
      for (const o of this.store.list(dep.name, r.name === 'namespaces' ? name : ns)) {
        const owned = r.name === 'namespaces' || (o.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid);
        if (owned && this.store.get(dep.name, o.metadata.namespace, o.metadata.name!)) this.delete(dep, o.metadata.namespace, o.metadata.name!, {});
      }
    }
    return removed;
  }

  deleteCollection(r: ResourceInfo, ns: string | undefined, labels: LabelSelector, fields: FieldSelector, opts: DeleteOptions): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.list(r, ns, labels, fields).items) {
      if (!this.store.get(r.name, o.metadata.namespace, o.metadata.name!)) continue;
      const { body } = this.delete(r, o.metadata.namespace, o.metadata.name!, opts);
      out.push(body.kind === 'Status' ? o : (body as KubeObject));
    }
    return out;
  }

  getScale(r: ResourceInfo, ns: string | undefined, name: string): KubeObject {
    const d = this.get(r, ns, name);
    const spec = (d.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
    const status = (d.status ?? {}) as { replicas?: number };
    const selector = Object.entries(spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const { name: n, namespace, uid, resourceVersion, creationTimestamp } = d.metadata;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: n, namespace, uid, resourceVersion, creationTimestamp },
      spec: { replicas: spec.replicas ?? 1 },
      status: { replicas: status.replicas ?? 0, selector },
    };
  }

  private updateScale(r: ResourceInfo, ns: string | undefined, name: string, body: unknown): KubeObject {
    const replicas = isRecord(body) && isRecord(body.spec) ? body.spec.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 1000)
      throw failure(
        422,
        'Invalid',
        `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      );
    const current = this.get(r, ns, name);
    const rv = isRecord(body) && isRecord(body.metadata) ? body.metadata.resourceVersion : undefined;
    if (typeof rv === 'string' && rv && rv !== current.metadata.resourceVersion) throw conflict(r.name, r.group, name);
    this.update(r, ns, name, { ...current, metadata: { ...current.metadata, resourceVersion: undefined }, spec: { ...(current.spec as object), replicas } });
    return this.getScale(r, ns, name);
  }

  /** A body must be an object of this resource's kind; its namespace, when set, must be the request's. */
  private checkBody(r: ResourceInfo, ns: string | undefined, body: unknown): KubeObject {
    if (!isRecord(body)) throw badRequest(`the body of the request was not a ${r.kind} object`);
    if (body.kind !== undefined && body.kind !== r.kind && !(r.name === 'deployments' && body.kind === 'Scale'))
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${r.kind})`);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(r))
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
    const metadata = body.metadata ?? {};
    if (!isRecord(metadata)) throw badRequest('metadata must be an object');
    for (const k of ['labels', 'annotations'] as const) {
      const m = metadata[k];
      if (m !== undefined && m !== null && (!isRecord(m) || !Object.values(m).every((v) => typeof v === 'string')))
        throw badRequest(`metadata.${k} must be a map of strings`);
    }
    if (r.namespaced && metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== ns)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const obj = structuredClone({ ...body, metadata: { ...metadata } }) as KubeObject;
    if (r.namespaced) obj.metadata.namespace = ns;
    else delete obj.metadata.namespace;
    return obj;
  }

  private allocateClusterIp(obj: KubeObject): void {
    const spec = obj.spec as Record<string, unknown>;
    if (spec.clusterIP === 'None' || typeof spec.clusterIP === 'string') return;
    const n = this.nextClusterIp++;
    spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
    spec.clusterIPs = [spec.clusterIP];
  }
}

export const podsResource = () => resourceByName('pods');
