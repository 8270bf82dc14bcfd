/**
 * The FAKE deployment controller: keeps spec.replicas pods of the template (named `<deploy>-<hash>-<rand5>`, labelled
 * pod-template-hash, owned by the Deployment — the fake has no ReplicaSets), replaces deleted and failed pods, replaces
 * pods of an old template (all at once, not rolling) and writes status (replicas, updated, ready, available, conditions).
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

  for (const old of active.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash)) api.delete(pods, ns, old.metadata.name!, {});
  for (let i = current.length; i < replicas && !failure; i++) {
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
  if (current.length > replicas) {
    // unready first, then the newest, as the ReplicaSet controller picks victims
    const victims = [...current].sort(
      (a, b) => Number(isReady(a)) - Number(isReady(b)) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    );
    for (const v of victims.slice(0, current.length - replicas)) api.delete(pods, ns, v.metadata.name!, {});
  }

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
