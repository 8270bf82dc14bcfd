/** /openapi.json: the api module's document when it offers one, else assembled from the kinds' schemas. */
import * as api from '../api/index.js';
import type { KindInfo } from '../api/index.js';

export function buildOpenApi(kinds: readonly KindInfo[], version: string): unknown {
  const fromApi = (api as Record<string, unknown>).buildOpenApiDocument;
  if (typeof fromApi === 'function') return (fromApi as () => unknown)();
  const schemas: Record<string, unknown> = {
    Status: {
      type: 'object',
      required: ['kind', 'status', 'code', 'reason', 'message'],
      properties: {
        kind: { const: 'Status' },
        status: { const: 'Failure' },
        code: { type: 'integer' },
        reason: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object' },
      },
    },
  };
  const paths: Record<string, unknown> = {};
  const errors = { default: { description: 'error', content: { 'application/json': { schema: ref('Status') } } } };
  for (const kind of kinds) {
    schemas[kind.kind] = kind.schema ?? { type: 'object' };
    schemas[kind.listKind] = {
      type: 'object',
      properties: { kind: { const: kind.listKind }, metadata: { type: 'object' }, items: { type: 'array', items: ref(kind.kind) } },
    };
    const one = { content: { 'application/json': { schema: ref(kind.kind) } } };
    const list = { content: { 'application/json': { schema: ref(kind.listKind) } } };
    const base = kind.namespaced ? `/{namespace}/${kind.plural}` : `/${kind.plural}`;
    const params = kind.namespaced ? [pathParam('namespace')] : [];
    paths[base] = {
      parameters: params,
      get: { operationId: `list${kind.kind}`, parameters: listParams(), responses: { 200: { description: 'list', ...list }, ...errors } },
      post: { operationId: `create${kind.kind}`, requestBody: one, responses: { 201: { description: 'created', ...one }, ...errors } },
    };
    if (kind.namespaced) {
      paths[`/${kind.plural}`] = {
        get: { operationId: `list${kind.kind}AllNamespaces`, parameters: listParams(), responses: { 200: { description: 'list', ...list }, ...errors } },
      };
    }
    paths[`${base}/{name}`] = {
      parameters: [...params, pathParam('name')],
      get: { operationId: `read${kind.kind}`, responses: { 200: { description: 'object', ...one }, ...errors } },
      put: { operationId: `replace${kind.kind}`, requestBody: one, responses: { 200: { description: 'updated', ...one }, ...errors } },
      patch: {
        operationId: `patch${kind.kind}`,
        requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } }, 'application/json-patch+json': { schema: { type: 'array' } } } },
        responses: { 200: { description: 'patched', ...one }, ...errors },
      },
      delete: { operationId: `delete${kind.kind}`, responses: { 200: { description: 'deleted', ...one }, ...errors } },
    };
    paths[`${base}/{name}/status`] = {
      parameters: [...params, pathParam('name')],
      put: { operationId: `replace${kind.kind}Status`, requestBody: one, responses: { 200: { description: 'updated', ...one }, ...errors } },
    };
  }
  return { openapi: '3.0.3', info: { title: 'SkyShift API', version }, paths, components: { schemas } };
}

function ref(name: string) {
  return { $ref: `#/components/schemas/${name}` };
}

function pathParam(name: string) {
  return { name, in: 'path', required: true, schema: { type: 'string' } };
}

function listParams() {
  const q = (name: string, type: string) => ({ name, in: 'query', schema: { type } });
  return [q('labelSelector', 'string'), q('limit', 'integer'), q('continue', 'string'), q('watch', 'boolean'), q('resourceVersion', 'string'), q('timeoutSeconds', 'integer')];
}
