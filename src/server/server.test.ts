/** Resource routes of the in-process API server (real HTTP where streams matter). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertStatus, call, harness, job, type Harness } from '../../test/support/server-harness.js';

describe('resource routes', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('default namespace exists and cannot be deleted', async () => {
    const res = await call(h, 'GET', '/namespaces/default');
    assert.equal(res.code, 200);
    assert.equal(res.json.metadata.name, 'default');
    const del = await call(h, 'DELETE', '/namespaces/default');
    assertStatus(del, 403, 'Forbidden');
    assert.match(del.json.message, /default/);
  });

  test('create, get, list with server-managed metadata', async () => {
    const created = await call(h, 'POST', '/default/jobs', {
      ...job('hello'),
      metadata: { name: 'hello', uid: 'forged', resourceVersion: '999', generation: 7 },
    });
    assert.equal(created.code, 201, created.text);
    const meta = created.json.metadata;
    assert.match(meta.uid, /^[0-9a-f-]{36}$/);
    assert.notEqual(meta.uid, 'forged');
    assert.equal(meta.generation, 1);
    assert.equal(meta.namespace, 'default');
    assert.ok(meta.creationTimestamp);
    assert.match(meta.resourceVersion, /^\d+$/);
    // Read-your-writes: the GET and list right after the POST see it.
    const got = await call(h, 'GET', '/default/jobs/hello');
    assert.equal(got.code, 200);
    assert.equal(got.json.metadata.resourceVersion, meta.resourceVersion);
    const list = await call(h, 'GET', '/default/jobs');
    assert.equal(list.json.kind, 'JobList');
    assert.ok(list.json.items.some((j: any) => j.metadata.name === 'hello'));
    assert.ok(Number(list.json.metadata.resourceVersion) >= Number(meta.resourceVersion));
    const all = await call(h, 'GET', '/jobs');
    assert.ok(all.json.items.some((j: any) => j.metadata.name === 'hello'));
  });

  test('create of an existing name is 409 AlreadyExists; missing namespace is 404', async () => {
    await call(h, 'POST', '/default/jobs', job('dup'));
    assertStatus(await call(h, 'POST', '/default/jobs', job('dup')), 409, 'AlreadyExists');
    const res = await call(h, 'POST', '/nowhere/jobs', job('x'));
    assertStatus(res, 404, 'NotFound');
    assert.equal(res.json.message, "namespace 'nowhere' not found");
  });

  test('namespace names equal to a plural are reserved', async () => {
    const res = await call(h, 'POST', '/namespaces', { kind: 'Namespace', metadata: { name: 'jobs' } });
    assert.ok(res.code === 400 || res.code === 422, res.text);
    assert.equal(res.json.kind, 'Status');
  });

  test('PUT updates spec, bumps generation, never touches status', async () => {
    const created = (await call(h, 'POST', '/default/jobs', job('upd'))).json;
    const body = { ...created, spec: { ...created.spec, run: 'echo changed' }, status: { phase: 'COMPLETED' } };
    const res = await call(h, 'PUT', '/default/jobs/upd', body);
    assert.equal(res.code, 200, res.text);
    assert.equal(res.json.spec.run, 'echo changed');
    assert.equal(res.json.metadata.generation, 2);
    assert.equal(res.json.status.phase, created.status.phase);
    assert.equal(res.json.metadata.uid, created.metadata.uid);
    // Same spec again: generation stays.
    const again = await call(h, 'PUT', '/default/jobs/upd', { ...res.json, metadata: { ...res.json.metadata, resourceVersion: undefined } });
    assert.equal(again.json.metadata.generation, 2);
  });

  test('status subresource changes only status', async () => {
    const created = (await call(h, 'POST', '/default/jobs', job('st'))).json;
    const res = await call(h, 'PUT', '/default/jobs/st/status', {
      ...created,
      spec: { run: 'evil' },
      status: { ...created.status, phase: 'PENDING' },
    });
    assert.equal(res.code, 200, res.text);
    assert.equal(res.json.status.phase, 'PENDING');
    assert.equal(res.json.spec.run, 'echo hi');
    assert.equal(res.json.metadata.generation, 1);
    const stale = await call(h, 'PUT', '/default/jobs/st/status', { ...created, status: { phase: 'ACTIVE' } });
    assertStatus(stale, 409, 'Conflict');
  });

  test('optimistic concurrency: stale resourceVersion is 409 on PUT, PATCH, DELETE', async () => {
    const created = (await call(h, 'POST', '/default/jobs', job('occ'))).json;
    const rv = created.metadata.resourceVersion;
    const ok = await call(h, 'PUT', '/default/jobs/occ', { ...created, spec: { run: 'v2' } });
    assert.equal(ok.code, 200, ok.text);
    assertStatus(await call(h, 'PUT', '/default/jobs/occ', { ...created, spec: { run: 'v3' } }), 409, 'Conflict');
    assertStatus(await call(h, 'PATCH', `/default/jobs/occ?resourceVersion=${rv}`, { spec: { run: 'x' } }, 'application/merge-patch+json'), 409, 'Conflict');
    assertStatus(
      await call(h, 'PATCH', '/default/jobs/occ', { metadata: { resourceVersion: rv }, spec: { run: 'x' } }, 'application/merge-patch+json'),
      409,
      'Conflict',
    );
    assertStatus(await call(h, 'DELETE', `/default/jobs/occ?resourceVersion=${rv}`), 409, 'Conflict');
    assertStatus(await call(h, 'PUT', '/default/jobs/occ?resourceVersion=abc', created), 400, 'BadRequest');
    const del = await call(h, 'DELETE', `/default/jobs/occ?resourceVersion=${ok.json.metadata.resourceVersion}`);
    assert.equal(del.code, 200, del.text);
    assertStatus(await call(h, 'GET', '/default/jobs/occ'), 404, 'NotFound');
  });

  test('merge patch and JSON patch, re-validated', async () => {
    await call(h, 'POST', '/default/jobs', job('pat', { a: '1' }));
    const merged = await call(
      h,
      'PATCH',
      '/default/jobs/pat',
      { metadata: { labels: { a: null, b: '2' } }, spec: { replicas: 3 } },
      'application/merge-patch+json',
    );
    assert.equal(merged.code, 200, merged.text);
    assert.deepEqual(merged.json.metadata.labels, { b: '2' });
    assert.equal(merged.json.spec.replicas, 3);
    assert.equal(merged.json.metadata.generation, 2);
    const patched = await call(h, 'PATCH', '/default/jobs/pat', [{ op: 'replace', path: '/spec/replicas', value: 4 }], 'application/json-patch+json');
    assert.equal(patched.code, 200, patched.text);
    assert.equal(patched.json.spec.replicas, 4);
    const badOp = await call(h, 'PATCH', '/default/jobs/pat', [{ op: 'frobnicate', path: '/spec' }], 'application/json-patch+json');
    assert.ok(badOp.code >= 400 && badOp.code < 500, badOp.text);
    assert.equal(badOp.json.kind, 'Status');
    const badPath = await call(h, 'PATCH', '/default/jobs/pat', [{ op: 'remove', path: '/spec/nope/deeper' }], 'application/json-patch+json');
    assert.ok(badPath.code >= 400 && badPath.code < 500, badPath.text);
    const invalid = await call(h, 'PATCH', '/default/jobs/pat', { spec: { replicas: -1 } }, 'application/merge-patch+json');
    assert.ok(invalid.code === 400 || invalid.code === 422, invalid.text);
    const plainJson = await call(h, 'PATCH', '/default/jobs/pat', { spec: {} });
    assertStatus(plainJson, 415, 'UnsupportedMediaType');
    // Status cannot be changed by a plain patch.
    const sneaky = await call(h, 'PATCH', '/default/jobs/pat', { status: { phase: 'COMPLETED' } }, 'application/merge-patch+json');
    assert.equal(sneaky.json.status.phase, 'INIT');
  });

  test('YAML bodies', async () => {
    const yaml = 'kind: Job\nmetadata:\n  name: from-yaml\nspec:\n  run: echo yaml\n';
    const res = await call(h, 'POST', '/default/jobs', yaml, 'application/yaml');
    assert.equal(res.code, 201, res.text);
    assert.equal(res.json.spec.run, 'echo yaml');
    const bad = await call(h, 'POST', '/default/jobs', 'kind: [unclosed', 'text/yaml');
    assertStatus(bad, 400, 'BadRequest');
    assert.match(bad.json.message, /YAML/);
  });

  test('malformed, unsupported and oversized bodies become Status', async () => {
    const bad = await call(h, 'POST', '/default/jobs', '{"kind":', 'application/json');
    assertStatus(bad, 400, 'BadRequest');
    assert.match(bad.json.message, /JSON/);
    assertStatus(await call(h, 'POST', '/default/jobs', 'x', 'text/plain'), 415, 'UnsupportedMediaType');
    const big = JSON.stringify({ ...job('big'), metadata: { name: 'big', annotations: { a: 'x'.repeat(1.6 * 1024 * 1024) } } });
    assertStatus(await call(h, 'POST', '/default/jobs', big), 413, 'RequestEntityTooLarge');
    assertStatus(await call(h, 'POST', '/default/jobs', '[1,2]'), 400, 'BadRequest');
    const unknown = await call(h, 'POST', '/default/jobs', { ...job('unk'), spec: { run: 'x', bogus: 1 } });
    assert.ok(unknown.code === 400 || unknown.code === 422, unknown.text);
    assert.match(unknown.json.message, /bogus/);
  });

  test('paths: unknown, traversal, encoded slashes, wrong method', async () => {
    assertStatus(await call(h, 'GET', '/nope'), 404, 'NotFound');
    assertStatus(await call(h, 'GET', '/default/nope'), 404, 'NotFound');
    assertStatus(await call(h, 'GET', '/default/jobs/a/b/c'), 404, 'NotFound');
    assert.equal((await call(h, 'GET', '/default/jobs/..%2F..%2Fetc')).code, 400);
    const dots = await call(h, 'GET', '/default/jobs/%2E%2E');
    assert.ok(dots.code >= 400 && dots.code < 500 && dots.json.kind === 'Status', dots.text);
    assertStatus(await call(h, 'GET', '/default/jobs/%E0%A4%A'), 400, 'BadRequest');
    assertStatus(await call(h, 'DELETE', '/default/jobs'), 405, 'MethodNotAllowed');
    assertStatus(await call(h, 'POST', '/jobs', job('x')), 405, 'MethodNotAllowed');
    const logs = await call(h, 'GET', '/default/jobs/hello/logs');
    assertStatus(logs, 503, 'ServiceUnavailable');
    assert.match(logs.json.message, /logs are not available/);
  });

  test('deleting a namespace deletes its objects', async () => {
    assert.equal((await call(h, 'POST', '/namespaces', { kind: 'Namespace', metadata: { name: 'team' } })).code, 201);
    assert.equal((await call(h, 'POST', '/team/jobs', job('a'))).code, 201);
    assert.equal((await call(h, 'POST', '/team/jobs', job('b'))).code, 201);
    assert.equal((await call(h, 'DELETE', '/namespaces/team')).code, 200);
    assert.equal(await h.store.get('/registry/jobs/team/a'), undefined);
    assertStatus(await call(h, 'POST', '/team/jobs', job('c')), 404, 'NotFound');
  });

  test('pagination with limit/continue and labelSelector', async () => {
    await call(h, 'POST', '/namespaces', { kind: 'Namespace', metadata: { name: 'pages' } });
    for (let i = 0; i < 7; i++) await call(h, 'POST', '/pages/jobs', job(`p${i}`, { even: String(i % 2 === 0) }));
    const names: string[] = [];
    let token: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const res = await call(h, 'GET', `/pages/jobs?limit=3${token ? `&continue=${token}` : ''}`);
      assert.equal(res.code, 200, res.text);
      assert.ok(res.json.items.length <= 3);
      names.push(...res.json.items.map((j: any) => j.metadata.name));
      token = res.json.metadata.continue;
      if (!token) break;
    }
    assert.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const even = await call(h, 'GET', '/pages/jobs?labelSelector=even%3Dtrue');
    assert.deepEqual(
      even.json.items.map((j: any) => j.metadata.name),
      ['p0', 'p2', 'p4', 'p6'],
    );
    assertStatus(await call(h, 'GET', '/pages/jobs?limit=2&continue=garbage!!'), 400, 'BadRequest');
    assertStatus(await call(h, 'GET', '/pages/jobs?limit=-1'), 400, 'BadRequest');
  });

  test('operational routes', async () => {
    assert.equal((await call(h, 'GET', '/healthz')).code, 200);
    assert.equal((await call(h, 'GET', '/readyz')).code, 200);
    assert.equal((await call(h, 'GET', '/version')).json.store, 'memory');
    const metrics = await call(h, 'GET', '/metrics');
    assert.match(metrics.text, /skyshift_http_requests_total\{method="POST",route="\/\{namespace\}\/jobs",code="201"\}/);
    assert.match(metrics.text, /skyshift_store_operation_duration_seconds/);
    const openapi = await call(h, 'GET', '/openapi.json');
    assert.equal(openapi.code, 200);
    assert.ok(openapi.json.openapi || openapi.json.swagger);
  });
});
