/**
 * What SkyShift creates in a Kubernetes cluster for a job's share: one Pod
 * per replica (restartPolicy Never/OnFailure), or, for restartPolicy Always,
 * one Deployment per share. Names derive from the job's name and uid, so a
 * resubmit after a crash meets AlreadyExists instead of creating twice; labels
 * carry the job's own labels plus skyshift.io/{job,uid,namespace,rank,task,cluster},
 * so `kubectl get pods -l skyshift.io/job=hello` finds them and SkyShift's
 * watch selects only its own cluster's work.
 */
import { createHash } from 'node:crypto';
import { taskName, type Job } from '../../api/index.js';
import type { JobRef } from '../types.js';

export const DEFAULT_IMAGE = 'ubuntu:22.04';
export const CONTAINER = 'main';

export const LABEL = {
  job: 'skyshift.io/job',
  uid: 'skyshift.io/uid',
  namespace: 'skyshift.io/namespace',
  rank: 'skyshift.io/rank',
  task: 'skyshift.io/task',
  cluster: 'skyshift.io/cluster',
  /** Deployment pods: which share (Deployment) they belong to. */
  share: 'skyshift.io/share',
} as const;
/** Deployment pods: the ranks of the share, comma-separated (annotation: may be longer than a label). */
export const RANKS_ANNOTATION = 'skyshift.io/ranks';

/** The prefix of every object of the job: `<job>-<uid 5>`, e.g. `hello-3f9a1` (also the job's manager-side id). */
export function objectPrefix(ref: JobRef): string {
  return `${ref.name.slice(0, 50).replace(/-+$/, '')}-${ref.uid.replace(/-/g, '').slice(0, 5).toLowerCase()}`;
}

export function podName(ref: JobRef, rank: number): string {
  return `${objectPrefix(ref)}-${rank}`;
}

/** A share's Deployment: named by a hash of its ranks, so a changed share is a new object rather than a rollout of the old one. */
export function shareId(ranks: readonly number[]): string {
  return createHash('sha256')
    .update([...ranks].sort((a, b) => a - b).join(','))
    .digest('hex')
    .slice(0, 6);
}

export function deploymentName(ref: JobRef, ranks: readonly number[]): string {
  return `${objectPrefix(ref)}-${shareId(ranks)}`;
}

/** Label selector of the job's objects on this SkyShift cluster. */
export function jobSelector(cluster: string, ref: Pick<JobRef, 'uid'>): string {
  return `${LABEL.cluster}=${cluster},${LABEL.uid}=${ref.uid}`;
}

export interface PodOptions {
  cluster: string;
  namespace: string;
  /** The node resource GPUs are requested as (nvidia.com/gpu unless the cluster's nodes of that type say otherwise). */
  gpuResource: string;
  /** Node label values matching the job's GPU type, for node affinity; undefined when no type is asked. */
  acceleratorAffinity?: { key: string; values: string[] }[];
}

function labelsFor(job: Job, ref: JobRef, cluster: string): Record<string, string> {
  return {
    ...(job.metadata.labels ?? {}),
    [LABEL.job]: ref.name,
    [LABEL.uid]: ref.uid,
    [LABEL.namespace]: ref.namespace,
    [LABEL.cluster]: cluster,
  };
}

function quantities(job: Job, gpuResource: string): Record<string, string> {
  const r = job.spec.resources ?? {};
  const out: Record<string, string> = {};
  const cpus = r['cpus'] ?? 0;
  if (cpus > 0) out['cpu'] = Number.isInteger(cpus) ? String(cpus) : `${Math.ceil(cpus * 1000)}m`;
  const memory = r['memory'] ?? 0;
  if (memory > 0) out['memory'] = `${Math.ceil(memory)}Mi`;
  const disk = r['disk'] ?? 0;
  if (disk > 0) out['ephemeral-storage'] = `${Math.ceil(disk)}Mi`;
  const typed = Object.entries(r)
    .filter(([k]) => !['cpus', 'memory', 'disk', 'gpus'].includes(k))
    .reduce((sum, [, v]) => sum + v, 0);
  const gpus = Math.max(r['gpus'] ?? 0, typed);
  if (gpus > 0) out[gpuResource] = String(Math.ceil(gpus));
  return out;
}

/** The job's container: command, env, ports, resources (as requests and limits), volumes. */
function container(job: Job, ref: JobRef, rank: number | undefined, options: PodOptions): Record<string, unknown> {
  const env: { name: string; value?: string; valueFrom?: unknown }[] = Object.entries(job.spec.envs ?? {}).map(([name, value]) => ({ name, value }));
  // The address the replica is reached at (services, port-forward), as Kubernetes' downward API gives it.
  env.push({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  const own: Record<string, string> = {
    SKYSHIFT_JOB: `${ref.namespace}/${ref.name}`,
    SKYSHIFT_JOB_UID: ref.uid,
    SKYSHIFT_REPLICAS: String(job.spec.replicas ?? 1),
  };
  // A Deployment's pods share one template: they cannot carry a rank of their own.
  if (rank !== undefined) Object.assign(own, { SKYSHIFT_REPLICA: String(rank), POD_RANK: String(rank), SKYSHIFT_TASK: taskName(ref.name, rank) });
  const ports = job.spec.ports ?? [];
  if (ports[0] !== undefined) own['PORT'] = String(ports[0]);
  for (const [name, value] of Object.entries(own)) env.push({ name, value });
  const limits = quantities(job, options.gpuResource);
  const run = job.spec.run ?? '';
  return {
    name: CONTAINER,
    image: job.spec.image || DEFAULT_IMAGE,
    ...(job.spec.imagePullPolicy ? { imagePullPolicy: job.spec.imagePullPolicy } : {}),
    // No run command: the image's own entrypoint.
    ...(run !== '' ? { command: ['/bin/sh', '-c', run] } : {}),
    env,
    ...(ports.length > 0 ? { ports: ports.map((p) => ({ containerPort: p, protocol: 'TCP' })) } : {}),
    ...(Object.keys(limits).length > 0 ? { resources: { requests: limits, limits } } : {}),
    ...(Object.keys(job.spec.volumes ?? {}).length > 0
      ? {
          volumeMounts: Object.entries(job.spec.volumes ?? {}).map(([name, v]) => ({
            name,
            mountPath: v.containerDir,
            ...(v.readOnly ? { readOnly: true } : {}),
          })),
        }
      : {}),
  };
}

function podSpec(job: Job, ref: JobRef, rank: number | undefined, options: PodOptions, restartPolicy: string): Record<string, unknown> {
  const volumes = Object.entries(job.spec.volumes ?? {}).map(([name, v]) =>
    v.hostDir ? { name, hostPath: { path: v.hostDir, ...(v.type ? { type: v.type } : {}) } } : { name, emptyDir: {} },
  );
  const affinity = options.acceleratorAffinity
    ? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: options.acceleratorAffinity.map((t) => ({ matchExpressions: [{ key: t.key, operator: 'In', values: t.values }] })),
          },
        },
      }
    : undefined;
  return {
    restartPolicy,
    // The pod needs no Kubernetes credentials of its own, and gets none of SkyShift's.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    containers: [container(job, ref, rank, options)],
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(affinity ? { affinity } : {}),
  };
}

/** The Pod of replica `rank`. */
export function podManifest(job: Job, ref: JobRef, rank: number, options: PodOptions): Record<string, unknown> {
  const task = taskName(ref.name, rank);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(ref, rank),
      namespace: options.namespace,
      labels: { ...labelsFor(job, ref, options.cluster), [LABEL.rank]: String(rank), [LABEL.task]: task },
      annotations: { 'skyshift.io/task': task },
    },
    spec: podSpec(job, ref, rank, options, job.spec.restartPolicy === 'OnFailure' ? 'OnFailure' : 'Never'),
  };
}

/** The Deployment running a share of a restartPolicy Always job. */
export function deploymentManifest(job: Job, ref: JobRef, ranks: readonly number[], options: PodOptions): Record<string, unknown> {
  const share = shareId(ranks);
  const selector = { [LABEL.cluster]: options.cluster, [LABEL.uid]: ref.uid, [LABEL.share]: share };
  const labels = { ...labelsFor(job, ref, options.cluster), [LABEL.share]: share };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName(ref, ranks), namespace: options.namespace, labels, annotations: { [RANKS_ANNOTATION]: ranks.join(',') } },
    spec: {
      replicas: ranks.length,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations: { [RANKS_ANNOTATION]: ranks.join(',') } },
        spec: podSpec(job, ref, undefined, options, 'Always'),
      },
    },
  };
}
