/**
 * The cluster-manager compatibility layer: one interface, one folder per
 * implementation (local/, sim/, slurm/, kubernetes/). Managers depend on
 * src/api only; controllers (and the server, for logs) drive them.
 * Every manager-side object carries the job's uid, namespace and name so that
 * submit is idempotent: a resubmit after a crash finds the existing work.
 */
import type { ApiObject } from '../api/index.js';

/** Resource amounts keyed by canonical resource name: cpus, memory (MiB), disk (MiB), gpus, or a GPU type (A100). */
export type Resources = Record<string, number>;
/** Per node: node name -> resources. */
export type NodeResources = Record<string, Resources>;

export interface ClusterState {
  phase: 'READY' | 'ERROR';
  message?: string;
  capacity: NodeResources;
  allocatable: NodeResources;
  /** How replicas with an image run here, when the manager knows (e.g. `podman`, `apptainer`, `none` = plain commands). */
  runtime?: string;
}

export type TaskState = 'INIT' | 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'EVICTED';

/** What a job needs from one cluster: `replicas` replicas whose ranks are `ranks` (global replica indices). */
export interface JobShare {
  /** Global replica indices placed on this cluster, e.g. [0, 1] or [2, 3]. */
  ranks: number[];
}

/** The manager's view of one SkyShift job on this cluster. */
export interface JobTasks {
  uid: string;
  namespace: string;
  name: string;
  /** Manager-side id (Slurm job id, pod prefix, local job dir...). */
  jobId: string;
  /** Task name (e.g. `hello-0`) -> state; task names include the replica rank. */
  tasks: Record<string, TaskState>;
  /** Rank of each task, same keys as `tasks`. */
  ranks: Record<string, number>;
}

export interface LogOptions {
  follow?: boolean;
  /** Last N lines of each task. */
  tail?: number;
  /** Only this task. */
  task?: string;
  signal?: AbortSignal;
}

/** The job as managers see it: the API Job object (spec normalised by src/api). */
export type JobObject = ApiObject<JobSpecView, Record<string, unknown>>;
export interface JobSpecView {
  image?: string;
  imagePullPolicy?: string;
  run: string;
  envs: Record<string, string>;
  ports: number[];
  replicas: number;
  resources: Resources;
  restartPolicy: 'Never' | 'OnFailure' | 'Always';
  [field: string]: unknown;
}

export interface ClusterManager {
  readonly type: string;
  /** Check the connection; throws with a message naming what is wrong. */
  connect(signal?: AbortSignal): Promise<void>;
  status(signal?: AbortSignal): Promise<ClusterState>;
  /** Start the share of `job` on this cluster. Idempotent: same job uid and ranks -> no duplicate work. Returns the manager-side id. */
  submit(job: JobObject, share: JobShare): Promise<string>;
  /** States of every SkyShift job this manager knows of on the cluster. */
  tasks(signal?: AbortSignal): Promise<JobTasks[]>;
  /** Stop and remove all work of the job (by uid). Idempotent; given ranks, only those replicas. */
  cancel(job: { uid: string; namespace: string; name: string }, ranks?: number[]): Promise<void>;
  /** Log lines, each prefixed by nothing; one stream across tasks (or one task). */
  logs(job: { uid: string; namespace: string; name: string }, options: LogOptions): AsyncIterable<string>;
  close(): Promise<void>;
}
