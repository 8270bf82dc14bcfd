/**
 * Create-time defaulting and validation of the FAKE Kubernetes API server, with the real messages for the checks it makes
 * (names, generateName, pod containers and images). Unknown fields are kept, as the real server keeps them in non-strict mode.
 */
import { randomInt } from 'node:crypto';
import type { ResourceInfo } from './resources.js';
import { invalid } from './status.js';
import { isRecord, type Container, type KubeObject, type Pod } from './types.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** The alphabet of generated name suffixes and template hashes (no vowels, as the real `rand.String`). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
export const randomSuffix = (n = 5) => Array.from({ length: n }, () => ALPHANUMS[randomInt(ALPHANUMS.length)]).join('');

type Cause = { field: string; reason: string; message: string };

/** Validates a name (DNS-1123 label for namespaces/services, subdomain otherwise); returns the causes, empty when valid. */
export function nameCauses(r: ResourceInfo, name: string, field = 'metadata.name'): Cause[] {
  const labelOnly = r.name === 'namespaces' || r.name === 'services';
  const ok = labelOnly ? LABEL.test(name) && name.length <= 63 : SUBDOMAIN.test(name) && name.length <= 253;
  return ok ? [] : [{ field, reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${labelOnly ? LABEL_MSG : SUBDOMAIN_MSG}` }];
}

/** Fills metadata.name from generateName; validates the name; throws 422 Invalid like the real server. */
export function prepareName(r: ResourceInfo, obj: KubeObject): void {
  const meta = obj.metadata;
  if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
  if (!meta.name)
    throw invalid(r.kind, r.group, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
  const causes = nameCauses(r, meta.name);
  if (causes.length) throw invalid(r.kind, r.group, meta.name, causes);
}

function podCauses(pod: Pod): Cause[] {
  const causes: Cause[] = [];
  const spec = pod.spec as unknown;
  if (!isRecord(spec)) return [{ field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' }];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [{ field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' }];
  containers.forEach((c: unknown, i) => {
    const f = `spec.containers[${i}]`;
    if (!isRecord(c)) return causes.push({ field: f, reason: 'FieldValueInvalid', message: 'Invalid value: must be an object' });
    if (typeof c.name !== 'string' || !c.name) causes.push({ field: `${f}.name`, reason: 'FieldValueRequired', message: 'Required value' });
    else if (!LABEL.test(c.name) || c.name.length > 63)
      causes.push({ field: `${f}.name`, reason: 'FieldValueInvalid', message: `Invalid value: "${c.name}": ${LABEL_MSG}` });
    if (typeof c.image !== 'string' || !c.image) causes.push({ field: `${f}.image`, reason: 'FieldValueRequired', message: 'Required value' });
    for (const k of ['command', 'args'] as const)
      if (c[k] !== undefined && (!Array.isArray(c[k]) || !(c[k] as unknown[]).every((a) => typeof a === 'string')))
        causes.push({ field: `${f}.${k}`, reason: 'FieldValueInvalid', message: 'Invalid value: must be a list of strings' });
    if (c.env !== undefined && (!Array.isArray(c.env) || !(c.env as unknown[]).every((e) => isRecord(e) && typeof e.name === 'string' && e.name)))
      causes.push({ field: `${f}.env`, reason: 'FieldValueInvalid', message: 'Invalid value: each entry needs a name' });
    return undefined;
  });
  const rp = spec.restartPolicy;
  if (rp !== undefined && rp !== 'Always' && rp !== 'OnFailure' && rp !== 'Never')
    causes.push({
      field: 'spec.restartPolicy',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${String(rp)}": supported values: "Always", "OnFailure", "Never"`,
    });
  return causes;
}

function imagePullPolicy(image: string): string {
  const last = image.split('/').pop() ?? '';
  return !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** The defaults the real API server writes into a new pod (the ones clients commonly read back). */
export function defaultPod(pod: Pod): void {
  const spec = pod.spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.tolerations ??= [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  for (const c of spec.containers as Container[]) {
    c.imagePullPolicy ??= imagePullPolicy(c.image ?? '');
    c.resources ??= {};
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
  }
  const requests = spec.containers.map((c) => ({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) }));
  const limited = spec.containers.every((c, i) => {
    const lim = c.resources?.limits ?? {};
    return ['cpu', 'memory'].every((k) => lim[k] !== undefined && lim[k] === requests[i]![k]);
  });
  const qosClass = limited ? 'Guaranteed' : requests.some((r) => Object.keys(r).length > 0) ? 'Burstable' : 'BestEffort';
  pod.status = { phase: 'Pending', qosClass };
}

/** Validates and defaults a new object of resource `r`; throws 422 Invalid with the real message shapes. */
export function prepareCreate(r: ResourceInfo, obj: KubeObject): void {
  prepareName(r, obj);
  if (r.name === 'pods') {
    const causes = podCauses(obj as Pod);
    if (causes.length) throw invalid(r.kind, r.group, obj.metadata.name!, causes);
    defaultPod(obj as Pod);
  } else if (r.name === 'namespaces') {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
  } else if (r.name === 'deployments') {
    const causes = deploymentCauses(obj);
    if (causes.length) throw invalid(r.kind, r.group, obj.metadata.name!, causes);
    const spec = obj.spec as Record<string, unknown>;
    spec.replicas ??= 1;
    if (!isRecord(spec.strategy) || !spec.strategy.type) spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    obj.metadata.generation = 1;
    obj.status = {};
  } else if (r.name === 'services') {
    const spec = (isRecord(obj.spec) ? obj.spec : (obj.spec = {})) as Record<string, unknown>;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (Array.isArray(spec.ports))
      for (const p of spec.ports as unknown[]) {
        if (!isRecord(p)) continue;
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
    obj.status = { loadBalancer: {} };
  }
}

/** The shape checks of a status the fake's components read (conditions, container statuses, resource maps). */
export function statusCauses(r: ResourceInfo, status: unknown): Cause[] {
  if (status === undefined || status === null) return [];
  if (!isRecord(status)) return [{ field: 'status', reason: 'FieldValueInvalid', message: 'Invalid value: must be an object' }];
  const causes: Cause[] = [];
  const listOf = (k: string, needs: string[]) => {
    const v = status[k];
    if (v === undefined || v === null) return;
    if (!Array.isArray(v) || !v.every((e) => isRecord(e) && needs.every((n) => typeof e[n] === 'string')))
      causes.push({ field: `status.${k}`, reason: 'FieldValueInvalid', message: `Invalid value: must be a list of objects with ${needs.join(', ')}` });
  };
  listOf('conditions', ['type', 'status']);
  listOf('containerStatuses', ['name']);
  listOf('addresses', ['type', 'address']);
  for (const k of ['capacity', 'allocatable'])
    if (status[k] !== undefined && !(isRecord(status[k]) && Object.values(status[k]).every((v) => typeof v === 'string')))
      causes.push({ field: `status.${k}`, reason: 'FieldValueInvalid', message: 'Invalid value: must be a map of quantities' });
  for (const k of ['phase', 'podIP', 'hostIP', 'reason', 'message'])
    if (status[k] !== undefined && typeof status[k] !== 'string')
      causes.push({ field: `status.${k}`, reason: 'FieldValueInvalid', message: 'Invalid value: must be a string' });
  return r.name === 'pods' || r.name === 'nodes' || r.name === 'deployments' ? causes : [];
}

/** A pod's spec is immutable but for container images, as the real server enforces. */
export function podUpdateCauses(current: Pod, next: Pod): Cause[] {
  const causes = podCauses(next);
  if (causes.length) return causes;
  const strip = (p: Pod) => JSON.stringify({ ...p.spec, containers: p.spec.containers.map((c) => ({ ...c, image: undefined })) });
  if (strip(current) !== strip(next))
    return [
      {
        field: 'spec',
        reason: 'FieldValueForbidden',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      },
    ];
  return [];
}

/** Deployments keep the shape the fake controller reads. */
export function deploymentCauses(obj: KubeObject): Cause[] {
  const spec = isRecord(obj.spec) ? obj.spec : undefined;
  const template = spec && isRecord(spec.template) ? spec.template : undefined;
  if (!spec || !template || !isRecord(spec.selector)) return [{ field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' }];
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || (spec.replicas as number) < 0 || (spec.replicas as number) > 1000))
    return [
      {
        field: 'spec.replicas',
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be between 0 and 1000 in the fake`,
      },
    ];
  const labels = isRecord(template.metadata) ? template.metadata.labels : undefined;
  const selector = isRecord(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  if (!isRecord(labels) || !Object.entries(selector).every(([k, v]) => labels[k] === v))
    return [{ field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid', message: 'Invalid value: `selector` does not match template `labels`' }];
  const podSpec = isRecord(template.spec) ? template.spec : {};
  return podCauses({ metadata: {}, spec: podSpec } as unknown as Pod).map((c) => ({ ...c, field: `spec.template.${c.field}` }));
}
