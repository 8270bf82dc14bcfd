/**
 * The request gate: every route but a few operational ones needs a valid
 * token (401), and every resource route a role allowing it (403). Runs on
 * onRequest, before the body is read, so an anonymous client cannot even make
 * the server parse a body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type RoleSpec } from '../../api/index.js';
import { decodeBody, isPlainObject } from '../body.js';
import type { Target } from '../router.js';
import { requiredGrant } from './actions.js';
import type { Request } from './rbac.js';
import type { AuthService, Principal } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    skyPrincipal: Principal | null;
  }
}

/** Open without a token: probes, version, the API schema (no data in any of them), and the two ways to get a token. */
const OPEN: Record<string, readonly string[]> = {
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/version': ['GET', 'HEAD'],
  '/openapi.json': ['GET', 'HEAD'],
  '/login': ['POST'],
  '/register': ['POST'],
};

/** Routes whose handlers authorise themselves (routes.ts). */
const SELF_AUTHORISED = /^\/(whoami|invites(\/[^/]+)?|users\/[^/]+)$/;

export function installGate(app: FastifyInstance, auth: AuthService, resolve: (url: string) => Target): void {
  app.decorateRequest('skyPrincipal', null);

  // Callback style: a request whose token and roles are already in memory passes
  // synchronously, without the promise an async hook costs on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const path = (request.raw.url ?? request.url).split('?', 1)[0] ?? '';
    if (OPEN[path]?.includes(request.method)) return done();
    const principal = auth.authenticateNow(request.headers.authorization);
    if (principal) {
      request.skyPrincipal = principal;
      const grant = grantFor(request, path, resolve);
      // Only a "yes" is taken from the fast path; anything else is decided (and worded) by the slow one.
      if (grant === null || auth.allowedNow(principal, grant)) return done();
    }
    gate(request, reply, path).then(() => done(), done);
  });

  async function gate(request: FastifyRequest, reply: FastifyReply, path: string): Promise<void> {
    try {
      request.skyPrincipal = await auth.authenticate(request.headers.authorization);
    } catch (err) {
      reply.header('www-authenticate', 'Bearer realm="skyshift"');
      throw err;
    }
    const grant = grantFor(request, path, resolve);
    if (grant) await auth.authorize(request.skyPrincipal, grant);
  }

  // Writing a role is granting it: nobody may write a role allowing more than they hold.
  // Callback style, so the requests it does not concern (nearly all) cost no promise.
  app.addHook('preHandler', (request, _reply, done) => {
    const principal = request.skyPrincipal;
    if (!principal || !['POST', 'PUT', 'PATCH'].includes(request.method)) return done();
    const path = (request.raw.url ?? request.url).split('?', 1)[0] ?? '';
    if (!/^\/roles(\/[^/]+)?$/.test(path)) return done();
    checkRoleWrite(request, principal, path).then(() => done(), done);
  });

  async function checkRoleWrite(request: FastifyRequest, principal: Principal, path: string): Promise<void> {
    const spec = request.method === 'PATCH' ? undefined : roleSpecOf(request);
    const name = path.split('/')[2] ?? 'new-role';
    const allowed = spec
      ? await auth.mayGrant(principal, { name, spec })
      // A patch's outcome is not known here: only someone holding everything may patch roles.
      : await auth.isAllowed(principal, { action: '*', resource: '*', namespace: undefined });
    if (!allowed) throw new ApiError('Forbidden', `user '${principal.user}' may not write a role that allows more than the user holds`);
  }
}

/**
 * What `request` needs beyond a valid token: a grant, or null when nothing
 * more (self-authorised account routes; a malformed or unknown path, whose
 * 400/404 the handler answers to this authenticated user).
 */
function grantFor(request: FastifyRequest, path: string, resolve: (url: string) => Target): Request | null {
  if (path === '/metrics') return { action: 'get', resource: 'metrics', namespace: undefined };
  if (SELF_AUTHORISED.test(path) && selfAuthorisedMethod(path, request.method)) return null;
  let target: Target;
  try {
    target = resolve(request.raw.url ?? request.url);
  } catch {
    return null;
  }
  return requiredGrant(request.method, target, isWatchQuery(request)) ?? null;
}

function selfAuthorisedMethod(path: string, method: string): boolean {
  if (path === '/whoami') return method === 'GET';
  if (path === '/invites') return method === 'POST';
  if (path.startsWith('/invites/')) return method === 'DELETE';
  return method === 'DELETE'; // /users/{name}
}

function isWatchQuery(request: FastifyRequest): boolean {
  const q = request.query as Record<string, unknown> | undefined;
  const w = q?.watch;
  const value = Array.isArray(w) ? w[0] : w;
  return value === 'true' || value === '1';
}

/** The spec a POST/PUT body would store, with the same defaults; undefined if unreadable (the handler reports that). */
function roleSpecOf(request: FastifyRequest): RoleSpec | undefined {
  let value: unknown;
  try {
    value = decodeBody(request.body, request.headers['content-type']).value;
  } catch {
    return undefined;
  }
  const spec = isPlainObject(value) && isPlainObject(value.spec) ? value.spec : {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const rules = Array.isArray(spec.rules)
    ? spec.rules.filter(isPlainObject).map((r) => ({ resources: list(r.resources), actions: list(r.actions) }))
    : [];
  return { namespaces: list(spec.namespaces), users: [], rules: rules as RoleSpec['rules'] };
}
