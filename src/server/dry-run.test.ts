/** `?dryRun=All` on POST, PUT, PATCH and DELETE: validated and defaulted like a real write, nothing stored, no watch event. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertStatus, call, harness, job, openWatch, type Harness } from '../../test/support/server-harness.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(() => h.close());

test('dry-run create answers with the defaulted object, stores nothing and sends no watch event', async () => {
  const list = await call(h, 'GET', '/default/jobs');
  const watch = await openWatch(`${h.url}/default/jobs?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`);
  try {
    const res = await call(h, 'POST', '/default/jobs?dryRun=All', job('dry'));
    assert.equal(res.code, 201, res.text);
    assert.equal(res.json.metadata.name, 'dry');
    assert.equal(res.json.metadata.namespace, 'default');
    assert.equal(typeof res.json.metadata.creationTimestamp, 'string');
    assert.equal(res.json.spec.replicas, 1, 'defaults applied');
    assert.equal(res.json.metadata.resourceVersion, undefined);
    assert.equal((await call(h, 'GET', '/default/jobs/dry')).code, 404);
    // The next event on the watch must be the real create, not the dry one.
    assert.equal((await call(h, 'POST', '/default/jobs', job('real'))).code, 201);
    const ev = await watch.next();
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.metadata.name, 'real');
  } finally {
    watch.close();
  }
});

test('dry-run create is validated: invalid bodies, existing names and missing namespaces are refused', async () => {
  assertStatus(await call(h, 'POST', '/default/jobs?dryRun=All', { kind: 'Job', metadata: { name: 'bad' }, spec: { replicas: -1 } }), 422, 'Invalid');
  assertStatus(await call(h, 'POST', '/default/jobs?dryRun=All', job('real')), 409, 'AlreadyExists');
  assertStatus(await call(h, 'POST', '/nowhere/jobs?dryRun=All', job('x')), 404, 'NotFound');
  assertStatus(await call(h, 'POST', '/default/jobs?dryRun=Yes', job('x')), 400, 'BadRequest');
});

test('dry-run PUT, PATCH and DELETE answer as if done and change nothing', async () => {
  const before = (await call(h, 'GET', '/default/jobs/real')).json;
  const put = await call(h, 'PUT', '/default/jobs/real?dryRun=All', { ...before, spec: { ...before.spec, replicas: 3 } });
  assert.equal(put.code, 200, put.text);
  assert.equal(put.json.spec.replicas, 3);
  assert.equal(put.json.metadata.generation, 2);
  const patch = await call(h, 'PATCH', '/default/jobs/real?dryRun=All', { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
  assert.equal(patch.code, 200, patch.text);
  assert.deepEqual(patch.json.metadata.labels, { a: 'b' });
  assertStatus(await call(h, 'PUT', '/default/jobs/real?dryRun=All', { ...before, spec: { ...before.spec, replicas: -2 } }), 422, 'Invalid');
  const del = await call(h, 'DELETE', '/default/jobs/real?dryRun=All');
  assert.equal(del.code, 200, del.text);
  assert.equal(del.json.metadata.name, 'real');
  assertStatus(await call(h, 'DELETE', '/default/jobs/ghost?dryRun=All'), 404, 'NotFound');
  const after = (await call(h, 'GET', '/default/jobs/real')).json;
  assert.deepEqual(after, before, 'the stored object is untouched');
});
