/** Shared shapes of the controller manager: options, logger and the API objects it reads. */
import type { ApiObject } from '../client/index.js';
import type { ClusterManager } from '../managers/index.js';
import type { Clock } from './runtime/index.js';

/** The slice of pino the controllers use, so tests can pass a silent stub. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** CANCELLED: a replica still running when its job FAILED, stopped by its skylet (Kubernetes Jobs do the same at backoffLimit). */
export type ReplicaState = 'INIT' | 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'EVICTED' | 'CANCELLED';

export interface JobStatusView {
  phase?: string;
  conditions?: Condition[];
  replicaStatus?: Record<string, Record<string, number>>;
  jobIds?: Record<string, string>;
  taskStatus?: Record<string, Record<string, string>>;
  placements?: Record<string, number[]>;
  restarts?: Record<string, number>;
  [field: string]: unknown;
}

export interface JobSpecView {
  run: string;
  replicas: number;
  resources: Record<string, number>;
  restartPolicy: 'Never' | 'OnFailure' | 'Always';
  placement?: unknown;
  priority?: number;
  maxPendingSeconds?: number;
  [field: string]: unknown;
}

export type JobObj = ApiObject<JobSpecView, JobStatusView>;

export interface ClusterStatusView {
  phase?: string;
  message?: string;
  capacity?: Record<string, Record<string, number>>;
  allocatable?: Record<string, Record<string, number>>;
  conditions?: Condition[];
  lastHeartbeatTime?: string;
  runtime?: string;
  [field: string]: unknown;
}
export type ClusterObj = ApiObject<{ manager: string; config?: Record<string, unknown>; [field: string]: unknown }, ClusterStatusView>;

export type FilterPolicyObj = ApiObject<{ clusterFilter?: { include?: string[]; exclude?: string[] }; labelsSelector?: Record<string, string>; [field: string]: unknown }>;

export interface ControllerOptions {
  /** Seconds between heartbeats (and job syncs) of every skylet. Default 3. */
  heartbeatSeconds: number;
  /** A cluster ERROR for this long has its unfinished replicas EVICTED. Default 30. */
  evictionGraceSeconds: number;
  /** Consecutive failed heartbeats before a cluster turns ERROR. Default 3. */
  errorThreshold: number;
  /** An unchanged heartbeat is still written this often, so lastHeartbeatTime stays fresh. Default 30. */
  statusKeepaliveSeconds: number;
  /** Leader lease duration. Default 15. */
  leaseDurationSeconds: number;
  /** Largest spec.replicas a controller works on (the API's limit); a stored job above it is marked FAILED. Default 10,000. */
  maxReplicas?: number;
  /** Failed submits of one job to one cluster before the job is marked FAILED (SubmitFailed). Default 8. */
  maxSubmitFailures?: number;
  /** Backoff of the first retry of a failed submit, doubling up to 30 s. Default 500 ms. */
  submitRetryBaseMs?: number;
  /** Builds the manager of a cluster; tests inject fakes. */
  managerFactory?: (cluster: ClusterObj) => ClusterManager;
}

export const DEFAULT_OPTIONS: ControllerOptions = {
  heartbeatSeconds: 3,
  evictionGraceSeconds: 30,
  errorThreshold: 3,
  statusKeepaliveSeconds: 30,
  leaseDurationSeconds: 15,
};

export interface ControllerDeps {
  clock: Clock;
  logger: Logger;
  options: ControllerOptions;
}
