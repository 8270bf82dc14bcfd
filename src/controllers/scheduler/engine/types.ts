/**
 * Structural shapes the scheduler needs. Declared here rather than imported
 * from src/api so the placement engine stays pure and does not move when the
 * API kinds change shape; an API Job/Cluster is assignable to these after a
 * thin mapping (see toSchedJob / toSchedCluster in the controller).
 */

/** Canonical resource keys: cpus, memory (MiB), disk (MiB), gpus (any type); any other key is a GPU type (A100, T4...). */
export type Resources = Record<string, number>;
/** node name -> allocatable resources on that node. */
export type NodeResources = Record<string, Resources>;

export interface SchedCluster {
  name: string;
  /** INIT | READY | ERROR | DELETING; only READY clusters take work. */
  phase: string;
  /** Shown in the not-READY reason (`not READY (ERROR: kubeconfig missing)`). */
  message?: string;
  labels?: Record<string, string>;
  /** What the last heartbeat reported as free per node. */
  allocatable: NodeResources;
  /** Each node's total (free or not); absent when the manager never said. Used only to tell "never fits" from "not now". */
  capacity?: NodeResources;
}

export type MatchOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface MatchExpression {
  key: string;
  operator: MatchOperator;
  values?: string[];
}
export interface PlacementFilter {
  name: string;
  matchLabels?: Record<string, string>;
  matchExpressions?: MatchExpression[];
}
export interface PlacementPreference extends PlacementFilter {
  /** 1..100 */
  weight: number;
}
export interface Placement {
  filters?: PlacementFilter[];
  preferences?: PlacementPreference[];
}

export interface SchedJob {
  namespace: string;
  name: string;
  uid: string;
  labels?: Record<string, string>;
  replicas: number;
  /** Per replica. */
  resources: Resources;
  placement?: Placement;
  priority?: number;
  /** RFC 3339; used for queue order only. */
  creationTimestamp?: string;
}

export interface SchedFilterPolicy {
  namespace: string;
  name: string;
  /** Empty or absent: applies to every job in the namespace. */
  labelsSelector?: Record<string, string>;
  clusterFilter?: { include?: string[]; exclude?: string[] };
}
