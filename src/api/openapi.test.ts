import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildOpenApiDocument } from './openapi.js';

test('OpenAPI document has a schema per kind and the generic routes', () => {
  const doc = buildOpenApiDocument('1.2.3');
  assert.equal(doc.openapi, '3.0.3');
  assert.equal(doc.info.version, '1.2.3');
  for (const k of ['Cluster', 'Namespace', 'Job', 'FilterPolicy', 'Service', 'Endpoints', 'Link', 'Event', 'Lease']) {
    assert.ok(doc.components.schemas[k], k);
    assert.ok(doc.components.schemas[`${k}List`], `${k}List`);
  }
  for (const p of [
    '/jobs',
    '/{namespace}/jobs',
    '/{namespace}/jobs/{name}',
    '/{namespace}/jobs/{name}/status',
    '/{namespace}/jobs/{name}/logs',
    '/clusters',
    '/clusters/{name}',
    '/clusters/{name}/status',
    '/healthz',
    '/metrics',
  ]) {
    assert.ok(doc.paths[p], p);
  }
  assert.equal(doc.paths['/clusters'].post.requestBody.content['application/json'].schema.$ref, '#/components/schemas/Cluster');
  assert.ok(doc.paths['/{namespace}/jobs'].get.parameters.some((p: { name: string }) => p.name === 'watch'));
  assert.equal(doc.paths['/{namespace}/jobs'].post !== undefined, true);
  assert.equal(doc.paths['/jobs'].post, undefined, 'namespaced kinds are created in a namespace');
});

test('schemas are OpenAPI 3.0: no patternProperties, const or internal hooks', () => {
  const text = JSON.stringify(buildOpenApiDocument());
  assert.doesNotMatch(text, /patternProperties|"const"|x-normalize|~kind/);
  const job = buildOpenApiDocument().components.schemas.Job;
  assert.deepEqual(job.properties.spec.properties.replicas, { type: 'integer', minimum: 1, default: 1 });
  assert.deepEqual(job.properties.metadata.properties.labels, { type: 'object', default: {}, additionalProperties: { type: 'string' } });
  assert.deepEqual(job.properties.kind, { enum: ['Job'], type: 'string' });
});

test('the document is valid OpenAPI 3.0 (by an OpenAPI validator): operationIds unique, bearer security, account routes', async () => {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const doc = buildOpenApiDocument('1.2.3');
  const result = await new Validator().validate(structuredClone(doc));
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));

  const ids: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      assert.ok(typeof op.operationId === 'string' && op.operationId.length > 0, `${method} ${path} has an operationId`);
      ids.push(op.operationId);
    }
  }
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  for (const id of [
    'listJob',
    'listJobForAllNamespaces',
    'createJob',
    'readJob',
    'patchJob',
    'replaceJobStatus',
    'readJobLogs',
    'listCluster',
    'login',
    'whoami',
  ]) {
    assert.ok(ids.includes(id), id);
  }
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
    type: 'http',
    scheme: 'bearer',
    description: doc.components.securitySchemes.bearerAuth.description,
  });
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  for (const open of ['/login', '/register']) assert.deepEqual(doc.paths[open].post.security, [], `${open} needs no token`);
  assert.deepEqual(doc.paths['/healthz'].get.security, []);
  assert.equal(doc.paths['/metrics'].get.security, undefined, '/metrics needs a token');
  for (const p of ['/invites', '/invites/{id}', '/whoami']) assert.ok(doc.paths[p], p);
});

test('dryRun=All is documented on every write of a kind, and on no read', () => {
  const doc = buildOpenApiDocument();
  const has = (op: { parameters?: { name: string; schema?: { enum?: string[] } }[] } | undefined) =>
    op?.parameters?.some((p) => p.name === 'dryRun' && p.schema?.enum?.join() === 'All') ?? false;
  for (const [path, ops] of [
    ['/{namespace}/jobs', ['post']],
    ['/{namespace}/jobs/{name}', ['put', 'patch', 'delete']],
    ['/{namespace}/jobs/{name}/status', ['put']],
    ['/clusters', ['post']],
    ['/clusters/{name}', ['put', 'patch', 'delete']],
  ] as const)
    for (const op of ops) assert.ok(has(doc.paths[path][op]), `${op} ${path}`);
  for (const [path, op] of [
    ['/{namespace}/jobs', 'get'],
    ['/{namespace}/jobs/{name}', 'get'],
    ['/jobs', 'get'],
  ] as const)
    assert.equal(has(doc.paths[path][op]), false, `${op} ${path}`);
});
