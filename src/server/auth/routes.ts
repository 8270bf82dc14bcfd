/**
 * The account routes. Bodies are JSON (or YAML) objects; answers never carry
 * a password, hash or another user's secret.
 *   POST   /login            {username, password}          -> {user, token, expiresAt}
 *   POST   /register         {username, password, invite, email?} -> 201 {user, roles, skippedRoles}
 *   POST   /invites          {roles: [...]}               -> 201 {id, token, roles, expiresAt}
 *   DELETE /invites/{id}     id or the invite token       -> {id, revoked, used}
 *   DELETE /users/{name}                                  -> the deleted User
 *   GET    /whoami                                        -> {user, type, roles, namespaces}
 * (GET /users and /users/{name} are the generic routes: a User holds no credential.)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from '../../api/index.js';
import { decodeBody, isPlainObject } from '../body.js';
import { LoginThrottled, type AuthService, type Principal } from './service.js';

export function installRoutes(app: FastifyInstance, auth: AuthService): void {
  app.post('/login', async (request, reply) => {
    request.skyRoute = '/login';
    const body = objectBody(request);
    try {
      return send(reply, 200, await auth.login(body.username, body.password, request.ip));
    } catch (err) {
      if (err instanceof LoginThrottled) reply.header('retry-after', String(err.retryAfterSeconds));
      throw err;
    }
  });

  app.post('/register', async (request, reply) => {
    request.skyRoute = '/register';
    const body = objectBody(request);
    return send(reply, 201, await auth.register({ username: body.username, password: body.password, invite: body.invite, email: body.email }));
  });

  app.post('/invites', async (request, reply) => {
    request.skyRoute = '/invites';
    const body = objectBody(request);
    return send(reply, 201, await auth.createInvite(principal(request), body.roles ?? []));
  });

  app.delete('/invites/:id', async (request, reply) => {
    request.skyRoute = '/invites/{id}';
    return send(reply, 200, await auth.revokeInvite(principal(request), (request.params as { id: string }).id));
  });

  app.delete('/users/:name', async (request, reply) => {
    request.skyRoute = '/users/{name}';
    return send(reply, 200, await auth.deleteUser(principal(request), (request.params as { name: string }).name));
  });

  app.get('/whoami', async (request, reply) => {
    request.skyRoute = '/whoami';
    return send(reply, 200, await auth.whoami(principal(request)));
  });
}

function principal(request: FastifyRequest): Principal {
  // The gate sets it on every route but /login and /register; reaching here without one is a wiring bug.
  if (!request.skyPrincipal) throw new ApiError('Unauthorized', 'authentication required: log in with skyctl login');
  return request.skyPrincipal;
}

function objectBody(request: FastifyRequest): Record<string, unknown> {
  if (request.body === undefined || request.body === null || request.body === '') return {};
  const { value } = decodeBody(request.body, request.headers['content-type']);
  if (!isPlainObject(value)) throw badRequest('the request body must be an object');
  return value;
}

function send(reply: FastifyReply, code: number, body: unknown): FastifyReply {
  return reply.code(code).type('application/json').send(JSON.stringify(body));
}
