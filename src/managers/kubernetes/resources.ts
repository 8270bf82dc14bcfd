/**
 * Capacity from Kubernetes objects: per schedulable node, its allocatable
 * (capacity) and allocatable minus the requests of its non-terminal pods
 * (what SkyShift may still place there). Quantities follow Kubernetes
 * (`500m` cores; memory in bytes with binary Ki/Mi/Gi or decimal k/M/G
 * suffixes), reported in SkyShift's units (cores, MiB).
 */
import type { NodeResources, Resources } from '../types.js';
import type { KubeObject } from './informer.js';

export const GPU_RESOURCES = ['nvidia.com/gpu', 'amd.com/gpu'] as const;
/** Node labels naming the GPU model, most specific first. */
export const ACCELERATOR_LABEL = 'skyshift.io/accelerator';
const PRODUCT_LABELS = [ACCELERATOR_LABEL, 'nvidia.com/gpu.product', 'amd.com/gpu.product-name'];

type Quantities = Record<string, string | undefined>;

export interface KubeNode extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status?: { allocatable?: Quantities; capacity?: Quantities; conditions?: { type: string; status: string }[] };
}

export interface KubeContainer {
  name: string;
  resources?: { requests?: Quantities; limits?: Quantities };
}
export interface KubePod extends KubeObject {
  spec?: { nodeName?: string; containers?: KubeContainer[]; initContainers?: KubeContainer[]; restartPolicy?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    podIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
  };
}
export interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: {
    running?: { startedAt?: string };
    terminated?: { exitCode?: number; reason?: string; startedAt?: string; finishedAt?: string };
    waiting?: { reason?: string; message?: string };
  };
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** A Kubernetes quantity in base units (cores, bytes, count); 0 for anything unparsable. */
export function parseQuantity(value: string | undefined): number {
  if (value === undefined) return 0;
  const m = QUANTITY.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? 1);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

const MIB = 2 ** 20;

/** SkyShift's GPU type key from a product label: `NVIDIA-A100-SXM4-40GB` -> A100, `Tesla-T4` -> T4, `NVIDIA-GeForce-RTX-4090` -> RTX4090. */
export function acceleratorType(product: string): string | undefined {
  const tokens = product
    .toUpperCase()
    .split(/[-_\s]+/)
    .filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (/^(RTX|GTX|TITAN)$/.test(t) && /^\d+/.test(tokens[i + 1] ?? '')) return t + (tokens[i + 1] as string);
    if (/^[A-Z]{1,3}\d{1,4}[A-Z]?$/.test(t) && !/^(SXM|PCIE|HBM|GB)\d/.test(t)) return t;
  }
  return undefined;
}

function nodeAcceleratorType(node: KubeNode): string | undefined {
  const labels = node.metadata.labels ?? {};
  const explicit = labels[ACCELERATOR_LABEL];
  if (explicit) return explicit.toUpperCase();
  for (const key of PRODUCT_LABELS.slice(1)) {
    const value = labels[key];
    if (value) return acceleratorType(value);
  }
  return undefined;
}

/** Why a node takes no new pods, or undefined when it does. */
export function nodeUnavailable(node: KubeNode): string | undefined {
  if (node.spec?.unschedulable) return 'cordoned';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return 'NotReady';
  const taint = node.spec?.taints?.find((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (taint) return `tainted ${taint.key}:${taint.effect}`;
  return undefined;
}

/** cpus, memory (MiB), disk (MiB), gpus and the GPU type, from amounts in base units keyed by Kubernetes resource name. */
function toResources(q: Record<string, number>, gpuType: string | undefined): Resources {
  const r: Resources = { cpus: Math.round((q['cpu'] ?? 0) * 1000) / 1000, memory: Math.floor((q['memory'] ?? 0) / MIB) };
  const disk = q['ephemeral-storage'] ?? 0;
  if (disk > 0) r['disk'] = Math.floor(disk / MIB);
  const gpus = GPU_RESOURCES.reduce((sum, key) => sum + (q[key] ?? 0), 0);
  if (gpus > 0 || gpuType) {
    r['gpus'] = gpus;
    if (gpuType) r[gpuType] = gpus;
  }
  return r;
}

export function isTerminalPod(pod: KubePod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** What a pod asks of its node: the sum of its containers' requests (limits when a request is unset), at least each init container's. */
export function podRequests(pod: KubePod): Record<string, number> {
  const sum: Record<string, number> = {};
  const of = (c: KubeContainer) => ({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) });
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of Object.entries(of(c))) sum[k] = (sum[k] ?? 0) + parseQuantity(v);
  for (const c of pod.spec?.initContainers ?? []) for (const [k, v] of Object.entries(of(c))) sum[k] = Math.max(sum[k] ?? 0, parseQuantity(v));
  return sum;
}

/** Capacity and free allocatable per schedulable node; `unavailable` lists the others with the reason. */
export function clusterResources(nodes: KubeNode[], pods: KubePod[]): { capacity: NodeResources; allocatable: NodeResources; unavailable: string[] } {
  const used = new Map<string, Record<string, number>>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || isTerminalPod(pod)) continue;
    const total = used.get(node) ?? {};
    for (const [k, v] of Object.entries(podRequests(pod))) total[k] = (total[k] ?? 0) + v;
    used.set(node, total);
  }
  const capacity: NodeResources = {};
  const allocatable: NodeResources = {};
  const unavailable: string[] = [];
  for (const node of nodes) {
    const name = node.metadata.name;
    const why = nodeUnavailable(node);
    if (why) {
      unavailable.push(`${name} (${why})`);
      continue;
    }
    const total: Record<string, number> = {};
    for (const [k, v] of Object.entries(node.status?.allocatable ?? node.status?.capacity ?? {})) total[k] = parseQuantity(v);
    const busy = used.get(name) ?? {};
    const free: Record<string, number> = {};
    for (const [k, v] of Object.entries(total)) free[k] = Math.max(0, v - (busy[k] ?? 0));
    const gpuType = nodeAcceleratorType(node);
    capacity[name] = toResources(total, gpuType);
    allocatable[name] = toResources(free, gpuType);
  }
  return { capacity, allocatable, unavailable };
}
