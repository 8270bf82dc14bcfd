/**
 * GET /agent/tunnel (WebSocket): where a `skyshift agent` keeps its tunnel
 * (src/network/tunnel) open, and the registry of live tunnels, cluster ->
 * tunnel, through which the API server reaches agent clusters' replicas for
 * logs, exec and port-forward (src/managers/tunnel's TunnelManager).
 *
 * Decisions:
 * - Only an agent token opens a tunnel, and only for its own cluster
 *   (Principal.agentCluster); `?cluster=` may repeat the name, never another.
 *   Without authentication (`--no-auth`, tests) `?cluster=` names the cluster.
 * - The Cluster must exist with `spec.agent: true` (404 / 409 otherwise), so a
 *   tunnel is never registered for a cluster the server reaches itself.
 * - A new tunnel for a cluster replaces the old one (closed 4000): an agent
 *   that reconnects after a partition must not wait for the server to notice
 *   the old connection is dead.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ApiError, badRequest, storageKey, validateName } from '../api/index.js';
import { type Mux, muxOverWebSocket, DEFAULT_PING_MS } from '../network/index.js';
import { caughtUp, type ServerContext } from './context.js';
import type { Upgrades } from './streams/index.js';
import { handshakeProblem } from './streams/upgrade.js';

export const AGENT_TUNNEL_ROUTE = '/agent/tunnel' as const;
/** Close code of a tunnel replaced by a newer connection of the same cluster's agent. */
export const REPLACED_CLOSE_CODE = 4000;

export interface AgentTunnelsOptions {
  /** Keepalive ping interval (default 15 s): a silent agent's tunnel ends after two. */
  pingMs?: number;
}

/** Live tunnels by cluster name. */
export class AgentTunnels {
  private readonly tunnels = new Map<string, { mux: Mux; ws: WebSocket }>();

  constructor(private readonly options: AgentTunnelsOptions = {}) {}

  /** The cluster's live tunnel, or undefined while its agent is not connected. */
  get(cluster: string): Mux | undefined {
    const t = this.tunnels.get(cluster);
    return t && !t.mux.closed ? t.mux : undefined;
  }

  /** Clusters with a live tunnel. */
  clusters(): string[] {
    return [...this.tunnels.keys()].filter((c) => this.get(c));
  }

  /** Makes `ws` the cluster's tunnel, replacing (closing) any older one. */
  attach(cluster: string, ws: WebSocket): Mux {
    const old = this.tunnels.get(cluster);
    // The server opens streams; the agent serves them and opens none.
    const mux = muxOverWebSocket(ws, { side: 'server', pingMs: this.options.pingMs ?? DEFAULT_PING_MS });
    this.tunnels.set(cluster, { mux, ws });
    if (old) {
      // The close code first: it is what the old agent reads (terminate would close with 1000).
      old.ws.close(REPLACED_CLOSE_CODE, 'replaced by a newer tunnel');
      old.mux.terminate(`cluster '${cluster}': the agent connected again; this tunnel was replaced`);
    }
    mux.signal.addEventListener(
      'abort',
      () => {
        if (this.tunnels.get(cluster)?.mux !== mux) return;
        this.tunnels.delete(cluster);
      },
      { once: true },
    );
    return mux;
  }
}

/** The route: checks who asks and for which cluster, then completes the upgrade and registers the tunnel. */
export async function agentTunnelRoute(
  ctx: ServerContext,
  upgrades: Upgrades,
  tunnels: AgentTunnels | undefined,
  authenticated: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (request.method !== 'GET') throw new ApiError('MethodNotAllowed', `${request.method} is not allowed on ${AGENT_TUNNEL_ROUTE}`);
  const query = (typeof request.query === 'object' && request.query !== null ? request.query : {}) as Record<string, unknown>;
  const asked = typeof query.cluster === 'string' && query.cluster !== '' ? query.cluster : undefined;
  if (asked !== undefined && validateName(asked) !== undefined) throw badRequest(`cluster '${asked.slice(0, 80)}' is not a valid cluster name`);
  let cluster: string;
  if (authenticated) {
    const own = request.skyPrincipal?.agentCluster;
    if (own === undefined) throw new ApiError('Forbidden', `${AGENT_TUNNEL_ROUTE} takes an agent token (skyctl create cluster NAME --agent)`);
    if (asked !== undefined && asked !== own) throw new ApiError('Forbidden', `this agent token acts for cluster '${own}', not '${asked}'`);
    cluster = own;
  } else {
    if (asked === undefined) throw badRequest(`${AGENT_TUNNEL_ROUTE} needs ?cluster=NAME when authentication is off`);
    cluster = asked;
  }
  if (!upgrades.isUpgrade(request.raw)) throw badRequest(`${AGENT_TUNNEL_ROUTE} is a WebSocket route: upgrade the connection (Upgrade: websocket)`);
  const problem = handshakeProblem(request.raw);
  if (problem) throw badRequest(problem);
  const kind = ctx.kinds.find((k) => k.plural === 'clusters');
  if (!kind) throw new ApiError('NotFound', `no such path: ${AGENT_TUNNEL_ROUTE}`);
  const obj = (await caughtUp(ctx, kind)).get(storageKey(kind, undefined, cluster))?.obj;
  if (!obj) throw new ApiError('NotFound', `cluster '${cluster}' not found: the agent creates it before opening its tunnel`);
  if ((obj.spec as { agent?: unknown } | undefined)?.agent !== true)
    throw new ApiError('Conflict', `cluster '${cluster}' is not an agent cluster (spec.agent is not true): the API server reaches it itself`);
  if (!tunnels) throw new ApiError('ServiceUnavailable', 'agent tunnels are not available: no cluster managers attached to this API server');
  reply.hijack();
  upgrades.accept(
    request.raw,
    {},
    (ws) => void tunnels.attach(cluster, ws),
    () => undefined,
    // A tunnel lives as long as its agent: it must not use up the exec/port-forward streams limit.
    { counted: false },
  );
  return reply;
}
