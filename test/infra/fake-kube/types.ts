/**
 * Shapes of the objects the FAKE Kubernetes API server stores. Only the fields the fake reads or writes are typed;
 * everything else a client sends is kept as-is (index signatures), as the real API server keeps unknown-but-valid fields.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
  [key: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath?: string; apiVersion?: string }; [key: string]: unknown };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [key: string]: unknown;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string; signal?: number; containerID?: string };
}

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started?: boolean;
}

export interface PodSpec {
  containers: Container[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  [key: string]: unknown;
}

export interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
  [key: string]: unknown;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}

export interface NodeSpecFields {
  unschedulable?: boolean;
  taints?: { key: string; value?: string; effect: string; timeAdded?: string }[];
  [key: string]: unknown;
}

export interface NodeStatus {
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  conditions?: Condition[];
  addresses?: { type: string; address: string }[];
  nodeInfo?: Record<string, string>;
  [key: string]: unknown;
}

export interface Node extends KubeObject {
  spec?: NodeSpecFields;
  status?: NodeStatus;
}

/** A node the fake starts with. */
export interface FakeNodeSpec {
  name: string;
  /** allocatable cpu (a Kubernetes quantity), default "4" */
  cpu?: string;
  /** allocatable memory, default "8Gi" */
  memory?: string;
  gpus?: { resource?: 'nvidia.com/gpu' | 'amd.com/gpu'; count: number; product?: string };
  labels?: Record<string, string>;
  unschedulable?: boolean;
  ready?: boolean;
}

/** Options of one fake API server (in-process or spawned). */
export interface FakeKubeOptions {
  /** Data dir: per-pod work dirs and log files live under it. */
  dir: string;
  nodes?: FakeNodeSpec[];
  /** When set, every API request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Interval of BOOKMARK events on watches that asked for them (allowWatchBookmarks=true). Default 60000 ms. */
  bookmarkIntervalMs?: number;
  /** How many watch events are kept for resuming watches; older resourceVersions get 410 Gone. Default 1000. */
  historySize?: number;
  /** Pods get IPs from 127.<podIpOctet>.0.0/16. Default 10 + (pid % 200). */
  podIpOctet?: number;
  /** First restart delay of a crashed container (doubles per restart up to 5 s). Default 200 ms. */
  restartDelayMs?: number;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
