/**
 * The OpenAPI 3.0 document served at /openapi.json, generated from the same
 * TypeBox schemas that validate requests, so the two cannot drift.
 */
import { KIND_DEFS } from './kinds/index.js';
import { SECURITY_SCHEMES, accountPaths, operationPaths } from './openapi-accounts.js';
import { agentPaths } from './openapi-agents.js';
import { streamPaths } from './openapi-streams.js';

type Json = Record<string, any>;

const DROP = new Set(['x-normalize', '$id', '~kind', '~optional', '~readonly']);

/** TypeBox emits JSON Schema 2020-12 bits OpenAPI 3.0 lacks (patternProperties, const, enum without type). */
function toOpenApi(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApi);
  if (schema === null || typeof schema !== 'object') return schema;
  const s = schema as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROP.has(k)) continue;
    if (k === 'patternProperties') {
      const first = Object.values(v as Json)[0];
      out.additionalProperties = toOpenApi(first ?? {});
    } else if (k === 'const') {
      out.enum = [v];
      if (typeof v === 'string') out.type = 'string';
    } else if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, toOpenApi(ps)]));
    } else {
      out[k] = toOpenApi(v);
    }
  }
  if (Array.isArray(out.enum) && out.type === undefined && out.enum.every((e: unknown) => typeof e === 'string')) out.type = 'string';
  if (out.type === 'object' && out.properties === undefined && out.additionalProperties === undefined) out.additionalProperties = {};
  return out;
}

const STATUS_SCHEMA = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['Status'] },
    apiVersion: { type: 'string' },
    status: { type: 'string', enum: ['Failure'] },
    code: { type: 'integer' },
    reason: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        kind: { type: 'string' },
        causes: {
          type: 'array',
          items: {
            type: 'object',
            properties: { field: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } },
          },
        },
      },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponses = {
  '400': { description: 'BadRequest', content: { 'application/json': { schema: ref('Status') } } },
  '401': { description: 'Unauthorized', content: { 'application/json': { schema: ref('Status') } } },
  '403': { description: 'Forbidden', content: { 'application/json': { schema: ref('Status') } } },
  '422': { description: 'Invalid; details.causes name the fields', content: { 'application/json': { schema: ref('Status') } } },
};
const params = {
  namespace: { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
  name: { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
  watch: {
    name: 'watch',
    in: 'query',
    schema: { type: 'boolean' },
    description: 'stream NDJSON watch events {type: ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, object}',
  },
  resourceVersion: {
    name: 'resourceVersion',
    in: 'query',
    schema: { type: 'string' },
    description: 'watch: send the events after this revision; writes: optimistic concurrency',
  },
  labelSelector: { name: 'labelSelector', in: 'query', schema: { type: 'string' }, description: 'e.g. a=b,c!=d,e in (x,y),f' },
  limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
  continue: { name: 'continue', in: 'query', schema: { type: 'string' } },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    schema: { type: 'string', enum: ['All'] },
    description: 'All: validate, default and check the write against the store, answer what would be stored, store nothing (no event)',
  },
};

function ok(schema: Json, description = 'OK') {
  return { description, content: { 'application/json': { schema }, 'application/yaml': { schema } } };
}

function body(kind: string) {
  return { required: true, content: { 'application/json': { schema: ref(kind) }, 'application/yaml': { schema: ref(kind) } } };
}

export function buildOpenApiDocument(version = '0.1.0'): Json {
  const schemas: Json = { Status: STATUS_SCHEMA };
  const paths: Json = {};
  for (const d of KIND_DEFS) {
    schemas[d.kind] = toOpenApi(d.schema);
    schemas[`${d.kind}List`] = {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: [`${d.kind}List`] },
        apiVersion: { type: 'string' },
        metadata: { type: 'object', properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' } } },
        items: { type: 'array', items: ref(d.kind) },
      },
    };
    const tag = d.plural;
    const listOp = (scope: string, operationId: string) => ({
      operationId,
      tags: [tag],
      summary: `List ${d.plural}${scope}, or watch them with ?watch=true`,
      parameters: [params.watch, params.resourceVersion, params.labelSelector, params.limit, params.continue],
      responses: { '200': ok(ref(`${d.kind}List`)), ...errorResponses },
    });
    const createOp = {
      operationId: `create${d.kind}`,
      tags: [tag],
      summary: `Create a ${d.singular}`,
      parameters: [params.dryRun],
      requestBody: body(d.kind),
      responses: { '201': ok(ref(d.kind), 'Created'), '409': errorResponses['400'], ...errorResponses },
    };
    const itemOps = {
      get: {
        operationId: `read${d.kind}`,
        tags: [tag],
        summary: `Read a ${d.singular}, or watch it with ?watch=true`,
        parameters: [params.watch, params.resourceVersion],
        responses: { '200': ok(ref(d.kind)), '404': errorResponses['400'], ...errorResponses },
      },
      put: {
        operationId: `replace${d.kind}`,
        tags: [tag],
        summary: `Replace a ${d.singular}'s spec and metadata (never its status)`,
        parameters: [params.resourceVersion, params.dryRun],
        requestBody: body(d.kind),
        responses: { '200': ok(ref(d.kind)), '409': errorResponses['400'], ...errorResponses },
      },
      patch: {
        operationId: `patch${d.kind}`,
        tags: [tag],
        summary: `Patch a ${d.singular} (JSON merge patch or JSON patch)`,
        parameters: [params.resourceVersion, params.dryRun],
        requestBody: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/json-patch+json': { schema: { type: 'array', items: { type: 'object' } } },
          },
        },
        responses: { '200': ok(ref(d.kind)), '409': errorResponses['400'], ...errorResponses },
      },
      delete: {
        operationId: `delete${d.kind}`,
        tags: [tag],
        summary: `Delete a ${d.singular}`,
        parameters: [params.resourceVersion, params.dryRun],
        responses: { '200': ok(ref(d.kind)), '404': errorResponses['400'], ...errorResponses },
      },
    };
    const statusOps = {
      put: {
        operationId: `replace${d.kind}Status`,
        tags: [tag],
        summary: `Replace a ${d.singular}'s status (controllers)`,
        parameters: [params.resourceVersion, params.dryRun],
        requestBody: body(d.kind),
        responses: { '200': ok(ref(d.kind)), '409': errorResponses['400'], ...errorResponses },
      },
    };
    if (d.namespaced) {
      paths[`/${d.plural}`] = { get: listOp(' across all namespaces', `list${d.kind}ForAllNamespaces`) };
      paths[`/{namespace}/${d.plural}`] = { parameters: [params.namespace], get: listOp(' in a namespace', `list${d.kind}`), post: createOp };
      paths[`/{namespace}/${d.plural}/{name}`] = { parameters: [params.namespace, params.name], ...itemOps };
      paths[`/{namespace}/${d.plural}/{name}/status`] = { parameters: [params.namespace, params.name], ...statusOps };
    } else {
      paths[`/${d.plural}`] = { get: listOp('', `list${d.kind}`), post: createOp };
      paths[`/${d.plural}/{name}`] = { parameters: [params.name], ...itemOps };
      paths[`/${d.plural}/{name}/status`] = { parameters: [params.name], ...statusOps };
    }
  }
  paths['/{namespace}/jobs/{name}/logs'] = {
    parameters: [params.namespace, params.name],
    get: {
      operationId: 'readJobLogs',
      tags: ['jobs'],
      summary: 'Stream the logs of a job (chunked text)',
      parameters: [
        { name: 'follow', in: 'query', schema: { type: 'boolean' } },
        { name: 'tail', in: 'query', schema: { type: 'integer', minimum: 0 } },
        { name: 'cluster', in: 'query', schema: { type: 'string' } },
        { name: 'task', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'log lines', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  };
  Object.assign(paths, streamPaths(), agentPaths(), accountPaths(), operationPaths());
  return {
    openapi: '3.0.3',
    info: { title: 'SkyShift API', version, description: 'One control plane that makes many clusters look like one.' },
    // Every route needs a bearer token unless it says `security: []` (probes, version, this document, login, register).
    security: [{ bearerAuth: [] }],
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}
