/**
 * The FAKE deployment controller: keeps spec.replicas pods of the template (named `<deploy>-<hash>-<rand5>`, labelled
 * pod-template-hash, owned by the Deployment — the fake has no ReplicaSets), replaces deleted and failed pods, replaces
 * pods of an old template (RollingUpdate within maxSurge/maxUnavailable, or Recreate) and writes status (replicas,
 * updated, ready, available, conditions).
 */
import { createHash } from 'node:crypto';
import type { FakeApi } from './api.js';
import { randomSuffix } from './defaults.js';
import { resourceByName } from './resources.js';
import { isTerminal, setCondition } from './scheduler.js';
import type { Condition, KubeObject, Pod } from './types.js';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** A short stable hash of the pod template, in the alphabet the real controller uses for pod-template-hash. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(template ?? {}))
    .digest();
  return Array.from(digest.subarray(0, 10), (b) => ALPHANUMS[b % ALPHANUMS.length]).join('');
}

interface DeploymentSpec {
  replicas?: number;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  selector?: { matchLabels?: Record<string, string> };
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
}

const isReady = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
/** Victim order of the ReplicaSet controller: unready first, then the newest. */
const unreadyNewestFirst = (a: Pod, b: Pod) =>
  Number(isReady(a)) - Number(isReady(b)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');

/** `25%` of `replicas` (rounded up for maxSurge, down for maxUnavailable) or an absolute number. */
function resolve(v: unknown, replicas: number, roundUp: boolean): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d{1,3})%$/.exec(v) : null;
  if (!m) return roundUp ? 1 : 0;
  const x = (Number(m[1]) * replicas) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * One pass of a rollout: Recreate deletes every old pod and creates new ones once none is left; RollingUpdate keeps at
 * most replicas+maxSurge pods and at least replicas-maxUnavailable ready ones, removing unready old pods first.
 */
function rolloutStep(spec: DeploymentSpec, replicas: number, current: Pod[], old: Pod[], oldTerminating: boolean): { create: number; deleteOld: Pod[] } {
  const missing = Math.max(0, replicas - current.length);
  if (spec.strategy?.type === 'Recreate') return old.length || oldTerminating ? { create: 0, deleteOld: old } : { create: missing, deleteOld: [] };
  if (old.length === 0) return { create: missing, deleteOld: [] };
  const surge = resolve(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
  let unavailable = resolve(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  const create = Math.max(0, Math.min(missing, replicas + surge - current.length - old.length));
  const removable = Math.max(0, [...current, ...old].filter(isReady).length - (replicas - unavailable));
  const unready = old.filter((p) => !isReady(p));
  const ready = old.filter(isReady).sort(unreadyNewestFirst);
  return { create, deleteOld: [...unready, ...ready.slice(0, removable)] };
}

export function reconcileDeployment(api: FakeApi, d: KubeObject): void {
  const pods = resourceByName('pods');
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const ns = d.metadata.namespace!;
  const name = d.metadata.name!;
  const replicas = Math.min(Math.max(Number.isInteger(spec.replicas) ? spec.replicas! : 1, 0), 1000);
  const hash = templateHash(spec.template);
  const owned = (api.store.list('pods', ns) as Pod[]).filter((p) => (p.metadata.ownerReferences ?? []).some((o) => o.uid === d.metadata.uid));
  const active = owned.filter((p) => !p.metadata.deletionTimestamp && !isTerminal(p));
  const current = active.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
  let failure: string | undefined;

  const old = active.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
  const oldTerminating = owned.some((p) => p.metadata.deletionTimestamp && p.metadata.labels?.['pod-template-hash'] !== hash);
  const step = rolloutStep(spec, replicas, current, old, oldTerminating);
  for (const p of step.deleteOld) api.delete(pods, ns, p.metadata.name!, {});
  for (let i = 0; i < step.create && !failure; i++) {
    const labels = { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash };
    try {
      api.create(pods, ns, {
        metadata: {
          name: `${name}-${hash}-${randomSuffix()}`,
          labels,
          ...(spec.template?.metadata?.annotations ? { annotations: spec.template.metadata.annotations } : {}),
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: structuredClone(spec.template?.spec ?? {}),
      });
    } catch (err) {
      failure = (err as Error).message;
    }
  }
  if (old.length === 0 && current.length > replicas)
    for (const v of [...current].sort(unreadyNewestFirst).slice(0, current.length - replicas)) api.delete(pods, ns, v.metadata.name!, {});

  const after = (api.store.list('pods', ns) as Pod[]).filter(
    (p) => (p.metadata.ownerReferences ?? []).some((o) => o.uid === d.metadata.uid) && !p.metadata.deletionTimestamp && !isTerminal(p),
  );
  const updated = after.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
  const ready = after.filter(isReady).length;
  const prev = (d.status ?? {}) as DeploymentStatus;
  let conditions = setCondition(
    prev.conditions,
    ready >= replicas
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
  );
  conditions = setCondition(
    conditions,
    failure
      ? { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }
      : {
          type: 'Progressing',
          status: 'True',
          reason: updated.length >= replicas && ready >= replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: `ReplicaSet "${name}-${hash}" ${updated.length >= replicas && ready >= replicas ? 'has successfully progressed' : 'is progressing'}.`,
        },
  );
  if (!failure) conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: after.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(replicas - ready > 0 ? { unavailableReplicas: replicas - ready } : {}),
    conditions,
  };
  const strip = (s: DeploymentStatus) =>
    JSON.stringify({ ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: undefined, lastUpdateTime: undefined })) });
  if (strip(status) === strip(prev)) return;
  const cur = api.store.get('deployments', ns, name);
  if (cur && cur.metadata.uid === d.metadata.uid) api.store.write('deployments', { ...cur, status });
}
