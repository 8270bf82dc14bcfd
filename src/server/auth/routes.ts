/**
 * The account routes. /login and /register take JSON only (a YAML parser is
 * work an anonymous client should not get to start); the others JSON or YAML
 * objects. Answers never carry a password, hash or another user's secret.
 *   POST   /login            {username, password}          -> {user, token, expiresAt}
 *   POST   /register         {username, password, invite, email?} -> 201 {user, roles, skippedRoles}
 *   POST   /invites          {roles: [...]}               -> 201 {id, token, roles, expiresAt}
 *   DELETE /invites/{id}     id or the invite token       -> {id, revoked, used}
 *   DELETE /users/{name}                                  -> the deleted User
 *   GET    /whoami                                        -> {user, type, roles, namespaces}
 *   POST   /clusters/{name}/agent-tokens {ttlSeconds?}   -> 201 {cluster, token, expiresAt}   (create on clusters)
 *   DELETE /clusters/{name}/agent-tokens                 -> {cluster, revoked}              (delete on clusters)
 * (GET /users and /users/{name} are the generic routes: a User holds no credential.)
 *
 * They are not Fastify routes: app.ts dispatches them from the Router's target,
 * the same value the gate authorised, so no spelling of a path reaches one of
 * these (or misses one, like DELETE /users/x/ once skipped the cleanup).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../api/index.js';
import { decodeBody, formatOf, isPlainObject } from '../body.js';
import type { AccountRoute } from '../router.js';
import { LoginThrottled, type AuthService, type Principal } from './service.js';

export interface AccountRoutes {
  /** One of the account routes, as the Router resolved it. */
  account(target: { route: AccountRoute; id?: string }, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  /** POST (mint) or DELETE (revoke) /clusters/{name}/agent-tokens. */
  agentTokens(cluster: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  /** DELETE on a user, by whichever path the Router resolved to it. */
  deleteUser(name: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

const METHODS: Record<AccountRoute, string> = {
  '/login': 'POST',
  '/register': 'POST',
  '/invites': 'POST',
  '/invites/{id}': 'DELETE',
  '/whoami': 'GET',
};

export function accountRoutes(auth: AuthService): AccountRoutes {
  return {
    async account(target, request, reply) {
      const { route } = target;
      const allowed = METHODS[route];
      if (request.method !== allowed && !(allowed === 'GET' && request.method === 'HEAD')) {
        throw new ApiError('MethodNotAllowed', `${request.method} is not allowed on ${route}: use ${allowed}`);
      }
      switch (route) {
        case '/login': {
          const body = objectBody(request, 'json');
          try {
            return send(reply, 200, await auth.login(body.username, body.password, request.ip));
          } catch (err) {
            if (err instanceof LoginThrottled) reply.header('retry-after', String(err.retryAfterSeconds));
            throw err;
          }
        }
        case '/register': {
          const body = objectBody(request, 'json');
          return send(reply, 201, await auth.register({ username: body.username, password: body.password, invite: body.invite, email: body.email }));
        }
        case '/invites':
          return send(reply, 201, await auth.createInvite(principal(request), objectBody(request).roles ?? []));
        case '/invites/{id}':
          return send(reply, 200, await auth.revokeInvite(principal(request), target.id ?? ''));
        case '/whoami':
          return send(reply, 200, await auth.whoami(principal(request)));
      }
    },
    async agentTokens(cluster, request, reply) {
      if (request.method === 'POST') {
        const ttl = objectBody(request).ttlSeconds ?? (request.query as Record<string, unknown> | undefined)?.ttlSeconds;
        return send(reply, 201, await auth.mintAgentToken(principal(request), cluster, ttl));
      }
      if (request.method === 'DELETE') return send(reply, 200, await auth.revokeAgentTokens(principal(request), cluster));
      throw new ApiError('MethodNotAllowed', `${request.method} is not allowed on /clusters/{name}/agent-tokens: use POST (mint) or DELETE (revoke)`);
    },
    async deleteUser(name, request, reply) {
      return send(reply, 200, await auth.deleteUser(principal(request), name));
    },
  };
}

function principal(request: FastifyRequest): Principal {
  // The gate sets it on every route but /login and /register; reaching here without one is a wiring bug.
  if (!request.skyPrincipal) throw new ApiError('Unauthorized', 'authentication required: log in with skyctl login');
  return request.skyPrincipal;
}

/** `only`: the one body format the route takes (checked before the body is decoded at all). */
function objectBody(request: FastifyRequest, only?: 'json'): Record<string, unknown> {
  const type = request.headers['content-type'];
  if (only !== undefined && type !== undefined && formatOf(type) !== only) {
    throw new ApiError('UnsupportedMediaType', `${request.skyRoute} takes application/json, not '${type.split(';', 1)[0]}'`);
  }
  if (request.body === undefined || request.body === null || request.body === '') return {};
  const { value } = decodeBody(request.body, type);
  if (!isPlainObject(value)) throw badRequest('the request body must be an object');
  return value;
}

function send(reply: FastifyReply, code: number, body: unknown): FastifyReply {
  return reply.code(code).type('application/json').send(JSON.stringify(body));
}
