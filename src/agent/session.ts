/**
 * One connected session of an agent: its cluster's skylet (heartbeat, flow,
 * job sync) over fresh informers, exactly as the central controller manager
 * runs one, plus a liveness probe of the server. The session ends when the
 * server has not answered `errorThreshold` probes in a row ('lost'), when the
 * cluster was deleted ('deleted', after the skylet drained it) or on abort.
 * Every session starts from nothing: new informers (a full list), new
 * skylet memory, so a session after a partition sees the world as it is now.
 *
 * The report gate: the skylet writes and submits only while the server
 * answered a probe within the last `errorThreshold` heartbeat periods (the
 * central agent-health waits longer before declaring this agent dead). A
 * probe that succeeds after a longer silence — the machine slept, the
 * process was stopped, the network came back before a probe failed three
 * times — still ends the session, so the next one fences first.
 */
import { ApiError, type Cluster } from '../api/index.js';
import type { SkyShiftClient } from '../client/index.js';
import { createSkylets, runLeaderTerm, type ControllerOptions, type Logger } from '../controllers/index.js';
import { sleep, type Clock } from '../lib/index.js';
import type { ClusterManager } from '../managers/index.js';

export type SessionEnd = 'lost' | 'deleted' | 'aborted';

/** How long a stopped session may take to wind down before the next one starts anyway (its calls all carry the aborted signal). */
const WIND_DOWN_MS = 5_000;

export interface SessionParams {
  client: SkyShiftClient;
  cluster: string;
  manager: ClusterManager;
  options: ControllerOptions;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
}

export async function runSession(p: SessionParams): Promise<SessionEnd> {
  const session = new AbortController();
  const stop = () => session.abort();
  const limitMs = p.options.errorThreshold * p.options.heartbeatSeconds * 1000;
  const health = { lastOk: p.clock.now() };
  p.signal.addEventListener('abort', stop, { once: true });
  // The skylet group for exactly this cluster; the manager outlives the session (replicas, tunnel), so its close() is not the skylet's to call.
  const options: ControllerOptions = {
    ...p.options,
    skyletCluster: p.cluster,
    managerFactory: () => keepOpen(p.manager),
    // Every heartbeat is written: its lastHeartbeatTime is how the central agent-health knows this agent lives.
    statusKeepaliveSeconds: p.options.heartbeatSeconds,
    reportGate: () => p.clock.now() - health.lastOk < limitMs,
  };
  const term = runLeaderTerm(p.client, p.clock, p.logger, options, session.signal, [{ name: 'skylets', create: createSkylets }]).catch((err: unknown) =>
    p.logger.error({ err: String(err) }, 'skylet session failed'),
  );
  let end: SessionEnd = 'aborted';
  try {
    end = await probe(p, health, limitMs, session.signal);
  } finally {
    session.abort();
    p.signal.removeEventListener('abort', stop);
    await Promise.race([term, sleep(WIND_DOWN_MS, undefined, p.clock)]);
  }
  return end;
}

/** Asks the server for the cluster every heartbeat; resolves when the server is lost, the cluster gone, or on abort. */
async function probe(p: SessionParams, health: { lastOk: number }, limitMs: number, signal: AbortSignal): Promise<SessionEnd> {
  const periodMs = p.options.heartbeatSeconds * 1000;
  let failures = 0;
  while (await sleep(periodMs, signal, p.clock)) {
    try {
      await p.client.get<Cluster>('clusters', p.cluster, { signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(periodMs, 2000))]) });
      const now = p.clock.now();
      if (now - health.lastOk >= limitMs) {
        p.logger.warn({ cluster: p.cluster, silentMs: now - health.lastOk }, 'out of touch with the server for too long: fencing before reporting again');
        return 'lost';
      }
      health.lastOk = now;
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof ApiError && err.reason === 'NotFound') return 'deleted';
      failures++;
      p.logger.warn({ cluster: p.cluster, failures, err: err instanceof Error ? err.message : String(err) }, 'server did not answer');
      if (failures >= p.options.errorThreshold) return 'lost';
    }
  }
  return 'aborted';
}

/** The manager with close() a no-op (the agent closes it once, on exit). */
function keepOpen(manager: ClusterManager): ClusterManager {
  return new Proxy(manager, {
    get(target, key) {
      if (key === 'close') return async () => undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
