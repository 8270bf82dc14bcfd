/**
 * The parts of the OpenAPI document that are not per-kind: the bearer
 * security scheme (which routes need no token), the account routes
 * (src/server/auth/routes.ts) and the operational ones.
 */
type Json = Record<string, any>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string) => ({ description, content: { 'application/json': { schema } } });
const problem = (description: string) => json(ref('Status'), description);
const str = { type: 'string' };
const obj = (properties: Json, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) });

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from POST /login (or /register), or a service-account token; `Authorization: Bearer <token>`',
  },
};

/** Routes open without a token (the server's auth gate says the same). */
const OPEN = { security: [] as Json[] };

const TOKEN = obj({ user: str, token: str, expiresAt: { type: 'string', format: 'date-time' } }, ['user', 'token', 'expiresAt']);

export function accountPaths(): Json {
  return {
    '/login': {
      post: {
        operationId: 'login',
        tags: ['accounts'],
        summary: 'Exchange a username and password for a bearer token',
        ...OPEN,
        requestBody: { required: true, content: { 'application/json': { schema: obj({ username: str, password: str }, ['username', 'password']) } } },
        responses: { '200': json(TOKEN, 'A token'), '401': problem('Unauthorized'), '429': problem('Too many failed logins') },
      },
    },
    '/register': {
      post: {
        operationId: 'register',
        tags: ['accounts'],
        summary: 'Create a user with an invite token; answers a bearer token for it',
        ...OPEN,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: obj({ username: str, password: str, invite: str, email: str }, ['username', 'password', 'invite']) } },
        },
        responses: { '201': json(TOKEN, 'Created'), '401': problem('Unauthorized'), '409': problem('AlreadyExists'), '422': problem('Invalid') },
      },
    },
    '/invites': {
      post: {
        operationId: 'createInvite',
        tags: ['accounts'],
        summary: 'Create an invite granting roles (at most the caller’s own)',
        requestBody: { required: false, content: { 'application/json': { schema: obj({ roles: { type: 'array', items: str } }) } } },
        responses: {
          '201': json(obj({ id: str, token: str, roles: { type: 'array', items: str }, expiresAt: { type: 'string', format: 'date-time' } }), 'Created'),
          '401': problem('Unauthorized'),
          '403': problem('Forbidden'),
        },
      },
    },
    '/invites/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: str, description: 'invite id (or its token)' }],
      delete: {
        operationId: 'revokeInvite',
        tags: ['accounts'],
        summary: 'Revoke an invite',
        responses: {
          '200': json(obj({ id: str, revoked: { type: 'boolean' }, used: { type: 'boolean' } }), 'Revoked'),
          '401': problem('Unauthorized'),
          '403': problem('Forbidden'),
          '404': problem('NotFound'),
        },
      },
    },
    '/whoami': {
      get: {
        operationId: 'whoami',
        tags: ['accounts'],
        summary: 'Who the token belongs to, its roles and namespaces',
        responses: {
          '200': json(
            obj({
              kind: { type: 'string', enum: ['WhoAmI'] },
              user: str,
              type: str,
              roles: { type: 'array', items: str },
              namespaces: { type: 'array', items: str },
            }),
            'The caller',
          ),
          '401': problem('Unauthorized'),
        },
      },
    },
  };
}

export function operationPaths(): Json {
  const text = (description: string) => ({ description, content: { 'text/plain': { schema: str } } });
  return {
    '/healthz': { get: { operationId: 'getHealthz', tags: ['operations'], summary: 'Liveness', ...OPEN, responses: { '200': text('ok') } } },
    '/readyz': {
      get: {
        operationId: 'getReadyz',
        tags: ['operations'],
        summary: 'Readiness: caches synced, store reachable',
        ...OPEN,
        responses: { '200': text('ok'), '503': problem('Not ready') },
      },
    },
    '/version': {
      get: {
        operationId: 'getVersion',
        tags: ['operations'],
        summary: 'Server version, Node version and store backend',
        ...OPEN,
        responses: { '200': json(obj({ version: str, node: str, store: str }), 'Version') },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        responses: { '200': text('metrics'), '401': problem('Unauthorized') },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        tags: ['operations'],
        summary: 'This document',
        ...OPEN,
        responses: { '200': json({ type: 'object' }, 'OpenAPI 3.0 document') },
      },
    },
  };
}
