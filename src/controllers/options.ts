/** Settings every controller reads: timing options and the logger slice they use. */
import type { Cluster } from '../api/index.js';
import type { ClusterManager } from '../managers/index.js';

/** The slice of pino the controllers use, so tests can pass a silent stub. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

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
  /** Events are deleted this long after they last happened (the ttl controller). Default 3600. */
  eventTtlSeconds?: number;
  /**
   * Run the skylet of exactly this cluster and of no other (a `skyshift agent`, DESIGN 12). Unset: a skylet
   * for every cluster but agent clusters (`spec.agent: true`), whose skylet runs in their agent.
   */
  skyletCluster?: string;
  /**
   * While this returns false the skylet writes nothing and submits nothing: an agent that may have been cut
   * off (its job cache may be stale) must first fence, i.e. stop ranks placed elsewhere meanwhile. Unset: always open.
   */
  reportGate?: () => boolean;
  /** An agent cluster whose heartbeat has not changed for this many heartbeat periods is marked ERROR (agent-health). Default 5. */
  agentStaleHeartbeats?: number;
  /** Builds the manager of a cluster; tests inject fakes. */
  managerFactory?: (cluster: Cluster) => ClusterManager;
}

export const DEFAULT_OPTIONS: ControllerOptions = {
  heartbeatSeconds: 3,
  evictionGraceSeconds: 30,
  errorThreshold: 3,
  statusKeepaliveSeconds: 30,
  leaseDurationSeconds: 15,
};
