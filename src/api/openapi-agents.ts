/**
 * The agent routes in the OpenAPI document (DESIGN section 12): join tokens
 * of an agent cluster, and the tunnel its agent keeps open (a WebSocket,
 * described in words as the job streams are).
 */
type Json = Record<string, unknown>;

const status = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } });
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'the agent cluster' };

export function agentPaths(): Json {
  return {
    '/clusters/{name}/agent-tokens': {
      parameters: [name],
      post: {
        operationId: 'createClusterAgentToken',
        tags: ['clusters'],
        summary: "Mint a join token that may act only for this cluster (shown once; needs 'create' on clusters)",
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, properties: { ttlSeconds: { type: 'integer', minimum: 60, maximum: 315_360_000 } } },
            },
          },
        },
        responses: {
          '201': {
            description: 'The token, bound to the Cluster uid and its current token generation',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { cluster: { type: 'string' }, token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
                },
              },
            },
          },
          '401': status('Unauthorized'),
          '403': status("Forbidden: needs 'create' on clusters"),
          '404': status('NotFound: no such cluster'),
          '422': status('Invalid: ttlSeconds out of range'),
        },
      },
      delete: {
        operationId: 'revokeClusterAgentTokens',
        tags: ['clusters'],
        summary: "Revoke every join token of this cluster at once (needs 'delete' on clusters)",
        responses: {
          '200': status('Success'),
          '401': status('Unauthorized'),
          '403': status("Forbidden: needs 'delete' on clusters"),
          '404': status('NotFound'),
        },
      },
    },
    '/agent/tunnel': {
      get: {
        operationId: 'connectAgentTunnel',
        tags: ['clusters'],
        summary: "The agent's multiplexed tunnel (WebSocket; an agent join token only)",
        description:
          'One binary message per frame: OPEN (a stream request), DATA (channel + bytes), WINDOW (credit), CLOSE (half-close), RESET. ' +
          "The API server opens streams over it for the cluster's logs, exec and port-forward; a newer tunnel of the same cluster replaces the older (close code 4000).",
        parameters: [
          {
            name: 'cluster',
            in: 'query',
            schema: { type: 'string' },
            description: "may only repeat the token's cluster (names it when authentication is off)",
          },
        ],
        responses: {
          '101': { description: 'Switching Protocols: the tunnel' },
          '400': status('BadRequest: not a WebSocket upgrade'),
          '401': status('Unauthorized'),
          '403': status("Forbidden: not an agent token, or another cluster's"),
          '404': status('NotFound: the cluster does not exist'),
          '409': status('Conflict: the cluster is not an agent cluster (spec.agent)'),
        },
      },
    },
  };
}
