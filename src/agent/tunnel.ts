/**
 * THE ONE CALL SITE of the agent's tunnel (issue 11, interface 3): the agent
 * keeps one multiplexed WebSocket open to the server, over which the server
 * reaches this machine's replicas (logs, exec, port-forward) with the agent's
 * own manager. The tunnel itself is src/network/tunnel's `connectTunnel`
 * (another change). Until that module ships in this build it is loaded
 * dynamically, and its absence only means no streams through the agent.
 * TODO(issue 11): once src/network/tunnel/index.ts exists, import
 * connectTunnel statically here and drop the dynamic load.
 */
import type { TlsOptions } from '../client/index.js';
import type { ClusterManager } from '../managers/index.js';
import type { Logger } from '../controllers/index.js';

export interface TunnelParams {
  server: string;
  token: string | undefined;
  tls?: TlsOptions;
  cluster: string;
  manager: ClusterManager;
  signal: AbortSignal;
  logger: Logger;
}

type ConnectTunnel = (p: Omit<TunnelParams, 'logger'> & { logger?: Logger }) => unknown;

/** Starts the tunnel (it reconnects on its own until `signal` aborts); false when this build has none. */
export async function startTunnel(p: TunnelParams): Promise<boolean> {
  // A variable specifier keeps the type checker from requiring the module before it exists.
  const specifier = '../network/tunnel/index.js';
  let connectTunnel: ConnectTunnel | undefined;
  try {
    const mod = (await import(specifier)) as { connectTunnel?: ConnectTunnel };
    connectTunnel = mod.connectTunnel;
  } catch {
    connectTunnel = undefined;
  }
  if (typeof connectTunnel !== 'function') {
    p.logger.warn({ cluster: p.cluster }, 'this build has no agent tunnel: logs, exec and port-forward of this cluster are not reachable through the server');
    return false;
  }
  const { logger, ...rest } = p;
  // Its promise (if any) settles when `signal` aborts; failures are the tunnel's to retry and log.
  void Promise.resolve(connectTunnel({ ...rest, logger })).catch((err: unknown) => logger.error({ err: String(err) }, 'agent tunnel stopped'));
  logger.info({ cluster: p.cluster }, 'agent tunnel started');
  return true;
}
