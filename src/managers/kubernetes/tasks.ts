/**
 * Pods -> SkyShift task states. A replica's pod carries its rank and task
 * labels; a Deployment's pods (restartPolicy Always) are interchangeable, so
 * the share's ranks (annotation) are handed to its live pods in creation order.
 *
 * States: Pending -> PENDING, Running (and Unknown: the node stopped
 * reporting, nothing is known yet) -> RUNNING, Succeeded -> COMPLETED,
 * Failed -> FAILED, except pods the kubelet evicted or shut down (reason
 * Evicted, Preempting, Shutdown, NodeLost, ...) and pods deleted by someone
 * else, which are EVICTED: SkyShift places those replicas again.
 */
import { taskName } from '../../api/index.js';
import type { JobTasks, TaskDetail, TaskState } from '../types.js';
import { LABEL, RANKS_ANNOTATION, objectPrefix } from './pods.js';
import { isTerminalPod, type KubePod } from './resources.js';

const EVICTION_REASONS = new Set([
  'Evicted',
  'Preempting',
  'Shutdown',
  'NodeShutdown',
  'NodeLost',
  'Terminated',
  'UnexpectedAdmissionError',
  'OutOfcpu',
  'OutOfmemory',
]);

export function podState(pod: KubePod): TaskState {
  switch (pod.status?.phase) {
    case 'Running':
    case 'Unknown':
      return 'RUNNING';
    case 'Succeeded':
      return 'COMPLETED';
    case 'Failed':
      return EVICTION_REASONS.has(pod.status.reason ?? '') ? 'EVICTED' : 'FAILED';
    default:
      return 'PENDING';
  }
}

function podDetail(pod: KubePod): TaskDetail {
  const state = pod.status?.containerStatuses?.[0]?.state;
  const detail: TaskDetail = {};
  const terminated = state?.terminated;
  if (terminated?.exitCode !== undefined) detail.exitCode = terminated.exitCode;
  const started = state?.running?.startedAt ?? terminated?.startedAt;
  if (started) detail.startedAt = started;
  if (terminated?.finishedAt) detail.finishedAt = terminated.finishedAt;
  return detail;
}

function byCreation(a: KubePod, b: KubePod): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Rank of every pod of the cluster's jobs (pods of Deployments by creation order within their share). */
export function podRanks(pods: readonly KubePod[]): Map<KubePod, number> {
  const ranks = new Map<KubePod, number>();
  const shares = new Map<string, KubePod[]>();
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    const rank = labels[LABEL.rank];
    if (rank !== undefined && /^\d+$/.test(rank)) ranks.set(pod, Number(rank));
    else if (labels[LABEL.share]) {
      // Terminating pods of a Deployment are being replaced: their rank goes to the replacement.
      if (pod.metadata.deletionTimestamp) continue;
      const key = `${labels[LABEL.uid] ?? ''}/${labels[LABEL.share]}`;
      shares.set(key, [...(shares.get(key) ?? []), pod]);
    }
  }
  for (const members of shares.values()) {
    members.sort(byCreation);
    const shareRanks = (members[0]?.metadata.annotations?.[RANKS_ANNOTATION] ?? '')
      .split(',')
      .filter((r) => /^\d+$/.test(r))
      .map(Number);
    members.forEach((pod, i) => {
      const rank = shareRanks[i];
      if (rank !== undefined) ranks.set(pod, rank);
    });
  }
  return ranks;
}

/** Pods of ours that disappeared without SkyShift cancelling them: uid -> job and the state each rank had (EVICTED if it was not finished). */
export type Vanished = ReadonlyMap<string, { ref: { namespace: string; name: string }; ranks: ReadonlyMap<number, TaskState> }>;

/** The SkyShift jobs among `pods` (already only this cluster's) with their states, plus the `vanished` ranks. */
export function jobTasks(pods: readonly KubePod[], vanished: Vanished): JobTasks[] {
  const jobs = new Map<string, JobTasks>();
  const entry = (uid: string, namespace: string, name: string): JobTasks => {
    let jt = jobs.get(uid);
    if (!jt) {
      jt = { uid, namespace, name, jobId: objectPrefix({ uid, namespace, name }), tasks: {}, ranks: {}, details: {} };
      jobs.set(uid, jt);
    }
    return jt;
  };
  for (const [pod, rank] of podRanks(pods)) {
    const labels = pod.metadata.labels ?? {};
    const uid = labels[LABEL.uid];
    const name = labels[LABEL.job];
    if (!uid || !name) continue;
    const jt = entry(uid, labels[LABEL.namespace] ?? 'default', name);
    const task = taskName(name, rank);
    // Deleted by someone else while we still want it: the replica is gone from this cluster.
    const state = pod.metadata.deletionTimestamp && !isTerminalPod(pod) ? 'EVICTED' : podState(pod);
    const previous = jt.tasks[task];
    // Two pods for one rank (a replacement next to a terminating one): the live one speaks.
    if (previous !== undefined && state === 'EVICTED') continue;
    jt.tasks[task] = state;
    jt.ranks[task] = rank;
    const detail = podDetail(pod);
    if (Object.keys(detail).length > 0 && jt.details) jt.details[task] = detail;
  }
  for (const [uid, gone] of vanished) {
    const jt = entry(uid, gone.ref.namespace, gone.ref.name);
    for (const [rank, state] of gone.ranks) {
      const task = taskName(gone.ref.name, rank);
      if (jt.tasks[task] !== undefined) continue;
      jt.tasks[task] = state;
      jt.ranks[task] = rank;
    }
  }
  return [...jobs.values()];
}
