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
