/**
 * `fieldValidation=Strict` (what kubectl 1.32 sends by default) for the kinds whose fields the FAKE knows: pods and the
 * pod template of deployments. An unknown field is 400 `... strict decoding error: unknown field "spec.containers[0].imagee"`,
 * the real server's message. Other kinds, and nested objects the fake does not model, are not checked.
 */
import type { ResourceInfo } from './resources.js';
import { badRequest } from './status.js';
import { isRecord } from './types.js';

const META =
  'annotations creationTimestamp deletionGracePeriodSeconds deletionTimestamp finalizers generateName generation labels managedFields name namespace ownerReferences resourceVersion selfLink uid';
const POD_SPEC =
  'activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes';
const CONTAINER =
  'args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports readinessProbe resizePolicy resources restartPolicy securityContext startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty volumeDevices volumeMounts workingDir';
const DEPLOYMENT_SPEC = 'minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector strategy template';
const set = (s: string) => new Set(s.split(' '));
const KNOWN = {
  top: set('apiVersion kind metadata spec status'),
  meta: set(META),
  pod: set(POD_SPEC),
  container: set(CONTAINER),
  deploy: set(DEPLOYMENT_SPEC),
};

function unknownIn(obj: unknown, known: Set<string>, path: string): string | undefined {
  if (!isRecord(obj)) return undefined;
  const k = Object.keys(obj).find((x) => !known.has(x) && !x.startsWith('$')); // $: strategic merge patch directives
  return k === undefined ? undefined : path ? `${path}.${k}` : k;
}

function podSpecUnknown(spec: unknown, path: string): string | undefined {
  const own = unknownIn(spec, KNOWN.pod, path);
  if (own || !isRecord(spec)) return own;
  for (const list of ['containers', 'initContainers'] as const) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    for (let i = 0; i < cs.length; i++) {
      const u = unknownIn(cs[i], KNOWN.container, `${path}.${list}[${i}]`);
      if (u) return u;
    }
  }
  return undefined;
}

function firstUnknown(r: ResourceInfo, body: Record<string, unknown>): string | undefined {
  const top = unknownIn(body, KNOWN.top, '') ?? unknownIn(body.metadata, KNOWN.meta, 'metadata');
  if (top) return top;
  if (r.name === 'pods') return podSpecUnknown(body.spec, 'spec');
  const spec = body.spec;
  const own = unknownIn(spec, KNOWN.deploy, 'spec');
  if (own || !isRecord(spec) || !isRecord(spec.template)) return own;
  return unknownIn(spec.template.metadata, KNOWN.meta, 'spec.template.metadata') ?? podSpecUnknown(spec.template.spec, 'spec.template.spec');
}

/** Throws 400 BadRequest for the first unknown field of a pod or deployment body, as the real server under Strict. */
export function checkStrict(r: ResourceInfo, body: unknown, fieldValidation: string | null): void {
  if (fieldValidation !== 'Strict' || !isRecord(body) || (r.name !== 'pods' && r.name !== 'deployments')) return;
  const field = firstUnknown(r, body);
  if (field) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: unknown field "${field}"`);
}
