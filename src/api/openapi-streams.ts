/**
 * The job's WebSocket routes in the OpenAPI document (src/server/streams):
 * OpenAPI cannot describe a WebSocket, so each is a GET whose 101 answer is
 * described in words, with the Status answers of every refusal before the
 * upgrade.
 */
type Json = Record<string, unknown>;

const status = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } });
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const task = {
  name: 'task',
  in: 'query',
  schema: { type: 'string', maxLength: 102 },
  description: "the task (replica), e.g. hello-0; default the job's first (the 101 names it in X-SkyShift-Task)",
};
const refusals = {
  '400': status('BadRequest: a parameter out of bounds, or not a WebSocket upgrade'),
  '401': status('Unauthorized'),
  '403': status("Forbidden: needs 'update' on jobs in the namespace"),
  '404': status('NotFound: no such job or task'),
  '409': status('Conflict: the task is not running (or the job is not placed yet)'),
  '501': status("NotImplemented: the task's cluster manager lacks the capability"),
  '503': status('ServiceUnavailable: no managers attached, or (port-forward) nothing accepts the connection'),
};

export function streamPaths(): Json {
  return {
    '/{namespace}/jobs/{name}/exec': {
      parameters: [path('namespace'), path('name')],
      get: {
        operationId: 'connectJobExec',
        tags: ['jobs'],
        summary: 'Run a command in a task (WebSocket, subprotocol v5.channel.k8s.io)',
        description:
          'Binary messages start with a channel byte. Client: 0 stdin, 4 resize {"Width","Height"}, 255 close (payload 0: end of stdin). ' +
          'Server: 1 stdout, 2 stderr, 3 a Status (Success, or Failure with reason NonZeroExitCode and the exit code as the ExitCode cause), then a close.',
        parameters: [
          { name: 'command', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' }, maxItems: 1024 }, style: 'form', explode: true },
          task,
          { name: 'tty', in: 'query', schema: { type: 'boolean' } },
          { name: 'stdin', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: { '101': { description: 'Switching Protocols: the exec session' }, ...refusals },
      },
    },
    '/{namespace}/jobs/{name}/portforward': {
      parameters: [path('namespace'), path('name')],
      get: {
        operationId: 'connectJobPortforward',
        tags: ['jobs'],
        summary: "One TCP connection to a task's port (WebSocket, subprotocol portforward.skyshift.io, raw bytes each way)",
        parameters: [{ name: 'port', in: 'query', required: true, schema: { type: 'integer', minimum: 1, maximum: 65535 } }, task],
        responses: { '101': { description: 'Switching Protocols: the connection' }, ...refusals },
      },
    },
  };
}
