/**
 * `skyshift agent`'s runtime (DESIGN 12): connects OUT to the API server
 * only, and loops
 *
 *   register or adopt the Cluster -> fence -> run a session (the skylet)
 *
 * until stopped. A lost server ends the session; the agent's replicas keep
 * running meanwhile, and it reconnects with the one capped, jittered backoff
 * (many agents after a server restart must not come back in step). Because
 * every session begins with fencing, a rank the scheduler re-placed while
 * the agent was away is stopped here before this agent reports anything.
 * A restarted agent goes through the same path; the local manager adopts the
 * replicas it finds on disk, as after a `skyshift up` restart.
 */
import { ApiError, type Cluster } from '../api/index.js';
import type { SkyShiftClient, TlsOptions } from '../client/index.js';
import { DEFAULT_OPTIONS, type ControllerOptions, type Logger } from '../controllers/index.js';
import { backoffDelay, sleep, systemClock, type Clock } from '../lib/index.js';
import type { ClusterManager } from '../managers/index.js';
import { fence } from './fence.js';
import { registerCluster } from './register.js';
import { runSession, type SessionEnd } from './session.js';
import { startTunnel } from './tunnel.js';

export interface AgentParams {
  client: SkyShiftClient;
  /** For the tunnel: the same server, token and TLS settings as `client`. */
  server: string;
  token?: string;
  tls?: TlsOptions;
  /** The Cluster this agent runs (agentCluster()). */
  cluster: Cluster;
  /**
   * The cluster's manager, or how to build it from the registered Cluster (the slurm manager marks its jobs
   * with the cluster's uid, known only once registered). Built once, shared by every session and the tunnel,
   * closed when the agent stops (its replicas keep running).
   */
  manager: ClusterManager | ((registered: Cluster) => ClusterManager);
  logger: Logger;
  options?: Partial<ControllerOptions>;
  clock?: Clock;
  /** Reconnect backoff: first delay and cap (defaults 500 ms and 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  signal: AbortSignal;
}

/** Runs until `signal` aborts ('aborted'), the cluster is deleted ('deleted') or the server refuses the token ('refused'). */
export async function runAgent(p: AgentParams): Promise<'aborted' | 'deleted' | 'refused'> {
  const clock = p.clock ?? systemClock;
  const name = p.cluster.metadata.name;
  const options: ControllerOptions = { ...DEFAULT_OPTIONS, ...p.options };
  const { logger, signal } = p;
  let manager = typeof p.manager === 'function' ? undefined : p.manager;
  let tunnel = false;
  try {
    return await loop();
  } finally {
    await manager?.close().catch(() => undefined);
  }

  async function loop(): Promise<'aborted' | 'deleted' | 'refused'> {
    let attempt = 0;
    while (!signal.aborted) {
      let end: SessionEnd | undefined;
      try {
        const { action, cluster } = await registerCluster(p.client, p.cluster, signal);
        if (action !== 'unchanged') logger.info({ cluster: name, action }, action === 'created' ? 'cluster registered' : 'cluster adopted');
        manager ??= (p.manager as (c: Cluster) => ClusterManager)(cluster);
        if (!tunnel) {
          tunnel = true;
          // Logs, exec and port-forward of this cluster reach the manager through it (see tunnel.ts).
          startTunnel({ server: p.server, token: p.token, ...(p.tls ? { tls: p.tls } : {}), cluster: name, manager, signal, logger });
        }
        // Before the skylet exists, so before any task state is reported (see fence.ts).
        for (const f of await fence(p.client, manager, name, signal)) logger.info({ cluster: name, ...f }, 'fenced: stopped work no longer placed here');
        attempt = 0;
        logger.info({ cluster: name, server: p.server }, 'connected: running the skylet');
        end = await runSession({ client: p.client, cluster: name, manager, options, clock, logger, signal });
      } catch (err) {
        if (signal.aborted) break;
        // A revoked, expired or wrong token is not a passing outage: retrying forever would only hide it.
        if (err instanceof ApiError && (err.reason === 'Unauthorized' || err.reason === 'Forbidden')) {
          logger.error(
            { cluster: name, err: err.message },
            'the server refused this agent token (revoked, expired, or made for another cluster); mint one with skyctl create agent-token',
          );
          return 'refused';
        }
        logger.warn({ cluster: name, attempt: attempt + 1, err: err instanceof Error ? err.message : String(err) }, 'cannot reach the server or register');
      }
      if (end === 'deleted') {
        // The skylet's own drain may have been cut short by the session's end: nothing of a deleted cluster may keep running.
        const left = manager ? await cancelEverything(manager).catch(() => -1) : 0;
        logger.warn({ cluster: name, cancelled: left }, 'the cluster was deleted on the server: its work here is cancelled; agent stopping');
        return 'deleted';
      }
      if (signal.aborted) break;
      if (end === 'lost') logger.warn({ cluster: name }, 'server lost; replicas keep running; reconnecting');
      attempt++;
      const delay = backoffDelay(attempt, { baseMs: p.backoffBaseMs ?? 500, maxMs: p.backoffMaxMs ?? 30_000, jitter: 0.5 });
      await sleep(delay, signal, clock);
    }
    return 'aborted';
  }
}

/** Cancels every job the manager runs for SkyShift; resolves to how many. */
async function cancelEverything(manager: ClusterManager): Promise<number> {
  const tasks = await manager.tasks();
  for (const jt of tasks) await manager.cancel({ uid: jt.uid, namespace: jt.namespace, name: jt.name });
  return tasks.length;
}
