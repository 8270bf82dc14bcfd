/**
 * The FAKE scheduler: binds each pod without spec.nodeName to a Ready, schedulable node that matches its nodeSelector and
 * whose allocatable minus the requests of its non-terminal pods fits the pod's requests; otherwise the pod stays Pending
 * with PodScheduled=False, reason Unschedulable and the real scheduler's message shape.
 */
import { guard } from './guard.js';
import { podRequests, parseQuantity } from './quantity.js';
import { nowSeconds, type FakeStore } from './store.js';
import type { Condition, Node, Pod } from './types.js';

const TERMINAL = new Set(['Succeeded', 'Failed']);
export const isTerminal = (pod: Pod) => TERMINAL.has(pod.status?.phase ?? '');
const EPSILON = 1e-9;

export function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why `pod` does not fit `node` (reasons as the real scheduler words them), empty when it fits. */
export function unfitReasons(pod: Pod, node: Node, used: Record<string, number>): string[] {
  const selector = pod.spec.nodeSelector ?? {};
  const labels = node.metadata.labels ?? {};
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (node.spec?.unschedulable) return ['node(s) were unschedulable'];
  if (!isNodeReady(node)) return ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'];
  const allocatable = node.status?.allocatable ?? {};
  const reasons: string[] = [];
  const wanted = podRequests(pod.spec.containers);
  if (Object.keys(wanted).length === 0) wanted.pods = 0;
  for (const [res, amount] of Object.entries(wanted)) {
    if (amount <= 0) continue;
    const cap = parseQuantity(allocatable[res]) ?? 0;
    if ((used[res] ?? 0) + amount > cap + EPSILON) reasons.push(`Insufficient ${res}`);
  }
  const maxPods = parseQuantity(allocatable.pods) ?? 110;
  if ((used.pods ?? 0) + 1 > maxPods) reasons.push('Too many pods');
  return reasons;
}

export class FakeScheduler {
  private pending = false;
  private unsubscribe?: () => void;

  constructor(private readonly store: FakeStore) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((e) => {
      if (e.resource === 'pods' || e.resource === 'nodes') this.kick();
    });
    this.kick();
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** Coalesces bursts of events into one pass, outside the store's write (listeners must not write). */
  private kick(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      guard('fake scheduler', () => this.schedule());
    });
  }

  private schedule(): void {
    const pods = this.store.list('pods') as Pod[];
    const nodes = this.store.list('nodes') as Node[];
    const used = new Map<string, Record<string, number>>();
    for (const p of pods) {
      if (!p.spec.nodeName || isTerminal(p)) continue;
      const u = used.get(p.spec.nodeName) ?? { pods: 0 };
      for (const [k, v] of Object.entries(podRequests(p.spec.containers))) u[k] = (u[k] ?? 0) + v;
      u.pods = (u.pods ?? 0) + 1;
      used.set(p.spec.nodeName, u);
    }
    const waiting = pods
      .filter((p) => !p.spec.nodeName && !p.metadata.deletionTimestamp && !isTerminal(p))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    for (const pod of waiting) {
      const histogram = new Map<string, number>();
      const fits: Node[] = [];
      for (const node of nodes) {
        const reasons = unfitReasons(pod, node, used.get(node.metadata.name!) ?? {});
        if (reasons.length === 0) fits.push(node);
        for (const r of reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
      }
      if (fits.length === 0) {
        this.markUnschedulable(pod, message(nodes.length, histogram));
        continue;
      }
      // least allocated cpu first, then name: spreads pods as the default scoring roughly does
      const free = (n: Node) => (parseQuantity(n.status?.allocatable?.cpu) ?? 0) - (used.get(n.metadata.name!)?.cpu ?? 0);
      fits.sort((a, b) => free(b) - free(a) || (a.metadata.name! < b.metadata.name! ? -1 : 1));
      const node = fits[0]!;
      const u = used.get(node.metadata.name!) ?? { pods: 0 };
      for (const [k, v] of Object.entries(podRequests(pod.spec.containers))) u[k] = (u[k] ?? 0) + v;
      u.pods = (u.pods ?? 0) + 1;
      used.set(node.metadata.name!, u);
      this.bind(pod, node.metadata.name!);
    }
  }

  private bind(pod: Pod, nodeName: string): void {
    const conditions = setCondition(pod.status?.conditions, { type: 'PodScheduled', status: 'True' });
    this.store.write('pods', { ...pod, spec: { ...pod.spec, nodeName }, status: { ...pod.status, conditions } });
  }

  private markUnschedulable(pod: Pod, msg: string): void {
    const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cur?.status === 'False' && cur.message === msg) return; // unchanged: no write, no event loop
    const conditions = setCondition(pod.status?.conditions, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg });
    this.store.write('pods', { ...pod, status: { ...pod.status, phase: 'Pending', conditions } });
  }
}

/** `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable. preemption: ...` (reasons sorted as the real one). */
function message(total: number, histogram: Map<string, number>): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const reasons = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  const noVictims = [...histogram].filter(([r]) => r.startsWith('Insufficient') || r === 'Too many pods').length > 0;
  const resourceNodes = noVictims
    ? Math.min(total, Math.max(...[...histogram].filter(([r]) => r.startsWith('Insufficient') || r === 'Too many pods').map(([, n]) => n)))
    : 0;
  const preemption = [
    ...(resourceNodes ? [`${resourceNodes} No preemption victims found for incoming pod`] : []),
    ...(total - resourceNodes > 0 ? [`${total - resourceNodes} Preemption is not helpful for scheduling`] : []),
  ].sort();
  return `0/${total} nodes are available: ${reasons.join(', ')}. preemption: 0/${total} nodes are available: ${preemption.join(', ')}.`;
}

/** Sets a condition by type; lastTransitionTime changes only when its status does, as the real components do. */
export function setCondition(conditions: Condition[] | undefined, c: Condition): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const old = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    lastProbeTime: null,
    ...c,
    lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? nowSeconds()) : nowSeconds(),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}
