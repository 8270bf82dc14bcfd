/**
 * The request gate: every route but a few operational ones needs a valid
 * token (401), and every resource route a role allowing it (403). Runs on
 * onRequest, before the body is read, so an anonymous client cannot even make
 * the server parse a body. Decides on the target the Router resolved for the
 * request (app.ts), never on the raw path, so every spelling of a path gets
 * the decision of the route it actually reaches.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../api/index.js';
import type { Resolved } from '../router.js';
import type { ServerContext } from '../context.js';
import { requiredGrant } from './actions.js';
import { checkAgentRequest, isAgentTunnel } from './agent-scope.js';
import { installAgentWriteGuard } from './agent-writes.js';
import type { Request } from './rbac.js';
import { installRoleGuard } from './role-guard.js';
import type { AuthService, Principal } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    skyPrincipal: Principal | null;
  }
}

/** Open without a token: probes, version, the API schema (no data in any of them), and the two ways to get a token. */
const OPEN_OPERATIONS = new Set(['/healthz', '/readyz', '/version', '/openapi.json']);

function isOpen(target: Resolved, method: string): boolean {
  if (target.type === 'operation') return OPEN_OPERATIONS.has(target.route) && (method === 'GET' || method === 'HEAD');
  return target.type === 'account' && (target.route === '/login' || target.route === '/register') && method === 'POST';
}

export function installGate(app: FastifyInstance, auth: AuthService, ctx: ServerContext): void {
  app.decorateRequest('skyPrincipal', null);

  // Callback style: a request whose token and roles are already in memory passes
  // synchronously, without the promise an async hook costs on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const target = request.skyTarget;
    // Fail closed: without the resolved target nothing can be decided.
    if (target === undefined) return done(new ApiError('InternalError', 'the request path was not resolved before the auth gate'));
    if (!(target instanceof ApiError) && isOpen(target, request.method)) return done();
    const principal = auth.authenticateNow(request.headers.authorization);
    if (principal) {
      request.skyPrincipal = principal;
      // An agent join token is decided by its own table (agent-scope.ts), never by roles.
      if (principal.agentCluster !== undefined) return agentGate(request, principal.agentCluster, target).then(() => done(), done);
      if (!(target instanceof ApiError) && isAgentTunnel(target)) return done(TUNNEL_ONLY());
      const grant = grantFor(request, target);
      // Only a "yes" is taken from the fast path; anything else is decided (and worded) by the slow one.
      if (grant === null || auth.allowedNow(principal, grant)) return done();
    }
    gate(request, reply, target).then(() => done(), done);
  });

  async function gate(request: FastifyRequest, reply: FastifyReply, target: Resolved | ApiError): Promise<void> {
    try {
      request.skyPrincipal = await auth.authenticate(request.headers.authorization);
    } catch (err) {
      reply.header('www-authenticate', 'Bearer realm="skyshift"');
      throw err;
    }
    const { agentCluster } = request.skyPrincipal;
    if (agentCluster !== undefined) return agentGate(request, agentCluster, target);
    if (!(target instanceof ApiError) && isAgentTunnel(target)) throw TUNNEL_ONLY();
    const grant = grantFor(request, target);
    if (grant) await auth.authorize(request.skyPrincipal, grant);
  }

  function agentGate(request: FastifyRequest, cluster: string, target: Resolved | ApiError): Promise<void> {
    return checkAgentRequest(ctx, cluster, request.method, target, isWatchQuery(request));
  }

  installRoleGuard(app, auth);
  installAgentWriteGuard(app, ctx);
}

/** No role grants the agent tunnel, not even an admin's '*': it serves one agent's cluster, named by its token. */
const TUNNEL_ONLY = () => new ApiError('Forbidden', 'only a skyshift agent join token may open the agent tunnel');

/**
 * What `request` needs beyond a valid token: a grant, or null when nothing
 * more (account routes, which authorise themselves in service.ts; probes; a
 * malformed or unknown path, whose 400/404 the handler answers to this
 * authenticated user).
 */
function grantFor(request: FastifyRequest, target: Resolved | ApiError): Request | null {
  if (target instanceof ApiError || target.type === 'account' || target.type === 'agent-tokens' || isAgentTunnel(target)) return null;
  if (target.type === 'operation') return target.route === '/metrics' ? { action: 'get', resource: 'metrics', namespace: undefined } : null;
  return requiredGrant(request.method, target, isWatchQuery(request)) ?? null;
}

function isWatchQuery(request: FastifyRequest): boolean {
  const q = request.query as Record<string, unknown> | undefined;
  const w = q?.watch;
  const value = Array.isArray(w) ? w[0] : w;
  return value === 'true' || value === '1';
}
