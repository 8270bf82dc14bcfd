/**
 * The one call site of the agent's tunnel (issue 11, interface 3): the agent
 * keeps one multiplexed WebSocket open to the server (src/network/tunnel's
 * connectTunnel, which reconnects with its own capped, jittered backoff), over
 * which the server reaches this machine's replicas — logs, exec,
 * port-forward — served by the agent's own manager. The machine needs no
 * open port.
 */
import type { TlsOptions } from '../client/index.js';
import type { Logger } from '../controllers/index.js';
import type { ClusterManager } from '../managers/index.js';
import { connectTunnel, type AgentTunnel } from '../network/tunnel/index.js';

export interface TunnelParams {
  server: string;
  token: string | undefined;
  tls?: TlsOptions;
  cluster: string;
  manager: ClusterManager;
  signal: AbortSignal;
  logger: Logger;
}

/** Starts the tunnel; it runs (and reconnects) until `signal` aborts. */
export function startTunnel(p: TunnelParams): AgentTunnel {
  return connectTunnel({
    server: p.server,
    token: p.token,
    cluster: p.cluster,
    manager: p.manager,
    signal: p.signal,
    ...(p.tls ? { tls: p.tls } : {}),
    logger: p.logger,
  });
}
