/**
 * The cluster-manager compatibility layer: one interface, one folder per
 * implementation (local/, sim/, slurm/, later kubernetes/). Managers depend on
 * src/api (and src/lib) only; controllers (and the server, for logs) drive them.
 * Every manager-side object carries the job's uid, namespace and name so that
 * submit is idempotent: a resubmit after a crash finds the existing work.
 * Jobs are the API's own `Job`: there is no manager-side copy of its shape.
 */
import type { Job, ReplicaState } from '../api/index.js';

/** Resource amounts keyed by canonical resource name: cpus, memory (MiB), disk (MiB), gpus, or a GPU type (A100). */
export type Resources = Record<string, number>;
/** Per node: node name -> resources. */
export type NodeResources = Record<string, Resources>;

/** A manager's answer to `status()`; the skylet turns it into the Cluster's status. */
export interface ClusterState {
  phase: 'READY' | 'ERROR';
  message?: string;
  capacity: NodeResources;
  allocatable: NodeResources;
  /** How replicas with an image run here, when the manager knows (e.g. `podman`, `apptainer`, `none` = plain commands). */
  runtime?: string;
}

/** What a manager reports for one task; CANCELLED is the controllers' word, never a manager's. */
export type TaskState = Exclude<ReplicaState, 'CANCELLED'>;

/** What a job needs from one cluster: the replicas whose ranks are `ranks` (global replica indices). */
export interface JobShare {
  /** Global replica indices placed on this cluster, e.g. [0, 1] or [2, 3]. */
  ranks: number[];
}

/** The job identity every manager-side object carries. */
export interface JobRef {
  uid: string;
  namespace: string;
  name: string;
}

/** What a manager knows of one task besides its state; every field optional (RFC 3339 times). */
export interface TaskDetail {
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
}

/** The manager's view of one SkyShift job on this cluster. */
export interface JobTasks extends JobRef {
  /** Manager-side id (Slurm job id, pod prefix, local job dir...). */
  jobId: string;
  /** Task name (`taskName(job, rank)`, e.g. `hello-0`) -> state. */
  tasks: Record<string, TaskState>;
  /** Rank of each task, same keys as `tasks`. */
  ranks: Record<string, number>;
  /** Exit code, start and finish time of tasks, when the manager knows them (same keys as `tasks`). */
  details?: Record<string, TaskDetail>;
}

export interface LogOptions {
  follow?: boolean;
  /** Last N lines of each task. */
  tail?: number;
  /** Only this task. */
  task?: string;
  signal?: AbortSignal;
}

export interface ClusterManager {
  readonly type: string;
  /** Check the connection; throws with a message naming what is wrong. */
  connect(signal?: AbortSignal): Promise<void>;
  status(signal?: AbortSignal): Promise<ClusterState>;
  /** Start the share of `job` on this cluster. Idempotent: same job uid and ranks -> no duplicate work. Returns the manager-side id. */
  submit(job: Job, share: JobShare): Promise<string>;
  /** States of every SkyShift job this manager knows of on the cluster. */
  tasks(signal?: AbortSignal): Promise<JobTasks[]>;
  /** Stop and remove all work of the job (by uid). Idempotent; given ranks, only those replicas. */
  cancel(job: JobRef, ranks?: number[]): Promise<void>;
  /** Log lines, each prefixed by nothing; one stream across tasks (or one task). */
  logs(job: JobRef, options: LogOptions): AsyncIterable<string>;
  close(): Promise<void>;
}
