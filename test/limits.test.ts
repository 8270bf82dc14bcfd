/**
 * Size limits of DESIGN section 17 through the real HTTP handlers (in-process
 * inject): each over-limit body is a 4xx naming the field, each body just
 * within a limit is accepted, and nothing over a limit is stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_LIMITS, setLimits } from '../src/api/limits.js';
import { call as inject, harness, type Harness } from './support/server-harness.js';

let h: Harness;
before(async () => {
  h = await harness({ listen: false });
});
after(() => h.close());

const call = (method: string, path: string, body: unknown, contentType = 'application/json') => inject(h, method, path, body, contentType);

const job = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  kind: 'Job',
  metadata: { name, ...meta },
  spec: { run: 'true', ...spec },
});

/** A 422 Invalid whose causes name `field` (and whose message does too). */
function assertInvalid(res: { code: number; json: any }, field: string | RegExp): void {
  assert.equal(res.code, 422, JSON.stringify(res.json).slice(0, 400));
  assert.equal(res.json.reason, 'Invalid');
  const fields: string[] = (res.json.details?.causes ?? []).map((c: any) => c.field);
  const match = (f: string) => (typeof field === 'string' ? f === field : field.test(f));
  assert.ok(fields.some(match), `no cause names ${field}: ${fields.join(', ')}`);
  assert.ok(typeof field === 'string' ? res.json.message.includes(field) : field.test(res.json.message), res.json.message);
}

function assertStatus(res: { code: number; json: any }, code: number, message: RegExp): void {
  assert.equal(res.code, code, JSON.stringify(res.json).slice(0, 400));
  assert.equal(res.json.kind, 'Status');
  assert.match(res.json.message, message);
}

async function assertNotStored(name: string): Promise<void> {
  assert.equal((await call('GET', `/default/jobs/${name}`, undefined as never)).code, 404, `${name} was stored`);
}

describe('replicas', () => {
  test('1e308, 1e8 and 10001 are 422 naming spec.replicas; 10000 is accepted', async () => {
    assertInvalid(await call('POST', '/default/jobs', '{"kind":"Job","metadata":{"name":"r1"},"spec":{"run":"x","replicas":1e308}}'), 'spec.replicas');
    assertInvalid(await call('POST', '/default/jobs', job('r2', { replicas: 1e8 })), 'spec.replicas');
    assertInvalid(await call('POST', '/default/jobs', job('r3', { replicas: 10_001 })), 'spec.replicas');
    assertInvalid(
      await call('POST', '/default/jobs', 'kind: Job\nmetadata: {name: r4}\nspec: {run: x, replicas: 1e308}\n', 'application/yaml'),
      'spec.replicas',
    );
    for (const name of ['r1', 'r2', 'r3', 'r4']) await assertNotStored(name);
    assert.equal((await call('POST', '/default/jobs', job('r-max', { replicas: 10_000 }))).code, 201);
  });

  test('patches cannot raise replicas past the limit', async () => {
    assert.equal((await call('POST', '/default/jobs', job('r-patch'))).code, 201);
    assertInvalid(await call('PATCH', '/default/jobs/r-patch', '{"spec":{"replicas":1e308}}', 'application/merge-patch+json'), 'spec.replicas');
    assertInvalid(
      await call('PATCH', '/default/jobs/r-patch', [{ op: 'replace', path: '/spec/replicas', value: 1e8 }], 'application/json-patch+json'),
      'spec.replicas',
    );
    const stored = await call('GET', '/default/jobs/r-patch', undefined as never);
    assert.equal(stored.json.spec.replicas, 1);
  });

  test('the operator can change the maximum', async () => {
    const before = setLimits({ maxReplicas: 50 });
    try {
      assertInvalid(await call('POST', '/default/jobs', job('r-op', { replicas: 51 })), 'spec.replicas');
      assert.match((await call('POST', '/default/jobs', job('r-op', { replicas: 51 }))).json.message, /<= 50/);
      assert.equal((await call('POST', '/default/jobs', job('r-op', { replicas: 50 }))).code, 201);
    } finally {
      setLimits(before);
    }
    assert.equal((await call('POST', '/default/jobs', job('r-op2', { replicas: 10_000 }))).code, 201);
  });

  test('a status write to a job stored under a higher limit still succeeds', async () => {
    assert.equal((await call('POST', '/default/jobs', job('r-old', { replicas: 100 }))).code, 201);
    const before = setLimits({ maxReplicas: 10 });
    try {
      const res = await call('PUT', '/default/jobs/r-old/status', { status: { phase: 'PENDING' } });
      assert.equal(res.code, 200, JSON.stringify(res.json));
    } finally {
      setLimits(before);
    }
  });
});

describe('labels and annotations', () => {
  test('more than 64 labels is 422 naming metadata.labels; 64 are accepted', async () => {
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    assertInvalid(await call('POST', '/default/jobs', job('l1', {}, { labels: labels(65) })), 'metadata.labels');
    assertInvalid(await call('POST', '/default/jobs', job('l2', {}, { labels: labels(8000) })), 'metadata.labels');
    assert.equal((await call('POST', '/default/jobs', job('l-max', {}, { labels: labels(64) }))).code, 201);
  });

  test('annotations over 256 KiB in total are 422 naming metadata.annotations, for every kind', async () => {
    const big = { a: 'x'.repeat(256 * 1024) };
    assertInvalid(await call('POST', '/default/jobs', job('a1', {}, { annotations: big })), 'metadata.annotations');
    assertInvalid(await call('POST', '/namespaces', { kind: 'Namespace', metadata: { name: 'a-ns', annotations: big } }), 'metadata.annotations');
    const many = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`key-${i}`, 'value']));
    assertInvalid(await call('POST', '/default/jobs', job('a2', {}, { annotations: many })), 'metadata.annotations');
    const fits = { a: 'x'.repeat(256 * 1024 - 1) };
    assert.equal((await call('POST', '/default/jobs', job('a-max', {}, { annotations: fits }))).code, 201);
  });
});

describe('env', () => {
  test('NUL in a value, a value over 128 KiB, and more than 1,000 entries are 422 naming the field', async () => {
    assertInvalid(await call('POST', '/default/jobs', job('e1', { envs: { A: 'a\u0000b' } })), 'spec.envs.A');
    assertInvalid(await call('POST', '/default/jobs', job('e2', { envs: { A: 'x'.repeat(129 * 1024) } })), 'spec.envs.A');
    assertInvalid(await call('POST', '/default/jobs', job('e3', { envs: { A: 'x'.repeat(128 * 1024) } })), 'spec.envs.A');
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`E${i}`, 'x']));
    assertInvalid(await call('POST', '/default/jobs', job('e4', { envs: many })), 'spec.envs');
    const huge = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`E${i}`, 'x']));
    const res = await call('POST', '/default/jobs', job('e5', { envs: huge }));
    assertInvalid(res, 'spec.envs');
    assert.equal(res.json.details.causes.length, 1, 'one cause for the count, not one per entry');
    assertInvalid(await call('POST', '/default/jobs', job('e6', { run: 'echo \u0000' })), 'spec.run');
    assertInvalid(await call('PATCH', '/default/jobs/r-patch', { spec: { envs: { B: 'x\u0000' } } }, 'application/merge-patch+json'), 'spec.envs.B');
    for (const name of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']) await assertNotStored(name);
  });

  test('the largest entry exec takes and 1,000 entries are accepted; env in total is bounded', async () => {
    // NAME=value plus its NUL is exactly 128 KiB.
    assert.equal((await call('POST', '/default/jobs', job('e-max', { envs: { A: 'x'.repeat(128 * 1024 - 3) } }))).code, 201);
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`E${i}`, 'x']));
    assert.equal((await call('POST', '/default/jobs', job('e-many', { envs: many }))).code, 201);
    const total = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`E${i}`, 'x'.repeat(120 * 1024)]));
    assertInvalid(await call('POST', '/default/jobs', job('e-total', { envs: total })), 'spec.envs');
  });
});

describe('resources', () => {
  const raw = (name: string, resources: string) => `{"kind":"Job","metadata":{"name":"${name}"},"spec":{"run":"x","resources":${resources}}}`;

  test('prototype names, Infinity, NaN, huge strings and negatives are 422 naming the key', async () => {
    const cases: [string, string, string | RegExp][] = [
      ['p1', '{"__proto__":1}', 'spec.resources.__proto__'],
      ['p2', '{"constructor":1}', 'spec.resources.constructor'],
      ['p3', '{"toString":1}', 'spec.resources.toString'],
      ['p4', '{"prototype":1}', 'spec.resources.prototype'],
      ['p5', '{"cpus":1e999}', 'spec.resources.cpus'],
      ['p6', `{"memory":"${'9'.repeat(100_000)}"}`, 'spec.resources.memory'],
      ['p7', '{"gpus":-1}', 'spec.resources.gpus'],
      ['p8', '{"A100":1e12}', 'spec.resources.A100'],
      ['p9', `{"${'A'.repeat(64)}":1}`, `spec.resources.${'A'.repeat(64)}`],
    ];
    for (const [name, resources, field] of cases) {
      const res = await call('POST', '/default/jobs', raw(name, resources));
      assertInvalid(res, field);
      assert.ok(res.json.message.length < 2000, `message of ${res.json.message.length} characters`);
      await assertNotStored(name);
    }
    for (const [name, y, field] of [
      ['y1', '{cpus: .inf}', 'spec.resources.cpus'],
      ['y2', '{gpus: .nan}', 'spec.resources.gpus'],
      ['y3', '{memory: -.inf}', 'spec.resources.memory'],
    ]) {
      assertInvalid(await call('POST', '/default/jobs', `kind: Job\nmetadata: {name: ${name}}\nspec: {run: x, resources: ${y}}\n`, 'application/yaml'), field!);
    }
  });

  test('known keys, aliases and accelerator types are accepted', async () => {
    const res = await call('POST', '/default/jobs', raw('res-ok', '{"cpu":"500m","memory":"2Gi","disk":10,"gpu":1,"A100":2,"T4":1,"H100":0}'));
    assert.equal(res.code, 201, JSON.stringify(res.json));
    assert.deepEqual(res.json.spec.resources, { cpus: 0.5, memory: 2048, disk: 10, gpus: 1, A100: 2, T4: 1 });
  });
});

describe('body decoding', () => {
  test('YAML aliases are bounded by what they expand to, not by how many there are', async () => {
    // Few aliases, each expanding 10 KB: ~14 MB from a 1.4 KB-per-line body.
    let body = 'kind: Job\nmetadata: {name: alias-bomb}\nspec:\n  run: "true"\n  envs:\n';
    const chunk = 'x'.repeat(10_000);
    for (let a = 0; a < 14; a++) {
      body += `    A${a}: &e${a} ${chunk}\n`;
      for (let k = 0; k < 99; k++) body += `    B${a}_${k}: *e${a}\n`;
    }
    const res = await call('POST', '/default/jobs', body, 'application/yaml');
    assertStatus(res, 413, /expands to more than 3 MiB.*alias/);
    await assertNotStored('alias-bomb');
    // Aliases within the limit still work.
    const ok = await call(
      'POST',
      '/default/jobs',
      'kind: Job\nmetadata: {name: alias-ok, labels: &l {a: b}}\nspec:\n  run: "true"\n  placement: {filters: [{matchLabels: *l}]}\n',
      'application/yaml',
    );
    assert.equal(ok.code, 201, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.spec.placement.filters[0].matchLabels, { a: 'b' });
  });

  test('YAML token count, duplicate keys, self-referencing aliases and flow nesting are refused', async () => {
    let keys = '';
    for (let i = 0; i < 80_000; i++) keys += `  k${String(i).padStart(5, '0')}: v\n`;
    assertStatus(await call('POST', '/default/jobs', `kind: Job\nmetadata:\n  name: k\nextra:\n${keys}`, 'application/yaml'), 413, /more than 50000 tokens/);
    assertStatus(await call('POST', '/default/jobs', 'kind: Job\nmetadata: {name: d}\nspec: {run: a, run: b}\n', 'application/yaml'), 400, /unique.*spec\.run/);
    assertStatus(await call('POST', '/default/jobs', 'kind: Job\nmetadata: {name: c}\nspec: &s {run: a, x: *s}\n', 'application/yaml'), 400, /inside the node/);
    assertStatus(await call('POST', '/default/jobs', '['.repeat(50_000) + ']'.repeat(50_000), 'application/yaml'), 400, /nested deeper than 64/);
    assertStatus(await call('POST', '/default/jobs', 'a: 1\n---\nb: 2\n', 'application/yaml'), 400, /exactly one YAML document/);
    assertStatus(
      await call('POST', '/default/jobs', 'kind: Job\nmetadata: {name: x\n', 'application/yaml'),
      400,
      /invalid YAML body: .* at line \d+, column \d+/,
    );
  });

  test('JSON and YAML key counts are bounded before validation', async () => {
    const many = Object.fromEntries(Array.from({ length: 50_001 }, (_, i) => [`k${i}`, '']));
    assertStatus(await call('POST', '/default/jobs', job('many', {}, { annotations: many })), 413, /more than 50000 keys/);
    assertStatus(await call('POST', '/default/jobs', `[${Array(200_000).fill(0).join(',')}]`), 413, /more than 50000 keys and list items/);
  });
});

describe('JSON patch', () => {
  before(async () => {
    assert.equal((await call('POST', '/default/jobs', job('p-target'))).code, 201);
  });

  test('chained copies are stopped at the size budget, before the copy is made', async () => {
    const ops: unknown[] = [{ op: 'add', path: '/spec/x', value: { v: 'y'.repeat(64) } }];
    for (let i = 0; i < 26; i++) ops.push({ op: 'copy', from: '/spec/x', path: `/spec/x/c${i}` });
    assertStatus(await call('PATCH', '/default/jobs/p-target', ops, 'application/json-patch+json'), 413, /larger than 3 MiB \(operation \d+\)/);
    const stored = await call('GET', '/default/jobs/p-target', undefined as never);
    assert.equal(stored.json.spec.x, undefined);
  });

  test('more than 1,000 operations is 413; 1,000 are applied', async () => {
    const tests = (n: number) => Array.from({ length: n }, () => ({ op: 'test', path: '/kind', value: 'Job' }));
    assertStatus(await call('PATCH', '/default/jobs/p-target', tests(1001), 'application/json-patch+json'), 413, /1001 operations; at most 1000/);
    const ok = await call(
      'PATCH',
      '/default/jobs/p-target',
      [...tests(999), { op: 'add', path: '/metadata/labels/a', value: 'b' }],
      'application/json-patch+json',
    );
    assert.equal(ok.code, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.metadata.labels, { a: 'b' });
  });

  test('RFC 6902 semantics: add, remove, replace, move, copy, test', async () => {
    const ops = [
      { op: 'add', path: '/spec/envs/A', value: '1' },
      { op: 'copy', from: '/spec/envs/A', path: '/spec/envs/B' },
      { op: 'move', from: '/spec/envs/A', path: '/spec/envs/C' },
      { op: 'replace', path: '/spec/envs/B', value: '2' },
      { op: 'add', path: '/spec/ports/-', value: 80 },
      { op: 'add', path: '/spec/ports/0', value: 22 },
      { op: 'remove', path: '/spec/ports/1' },
      { op: 'test', path: '/spec/envs', value: { B: '2', C: '1' } },
    ];
    const res = await call('PATCH', '/default/jobs/p-target', ops, 'application/json-patch+json');
    assert.equal(res.code, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.spec.envs, { B: '2', C: '1' });
    assert.deepEqual(res.json.spec.ports, [22]);
    assertStatus(
      await call('PATCH', '/default/jobs/p-target', [{ op: 'test', path: '/spec/envs', value: { B: '2' } }], 'application/json-patch+json'),
      409,
      /test failed/,
    );
    assertStatus(
      await call('PATCH', '/default/jobs/p-target', [{ op: 'replace', path: '/spec/nope', value: 1 }], 'application/json-patch+json'),
      400,
      /'\/spec\/nope' does not exist \(operation 0\)/,
    );
    assertStatus(
      await call('PATCH', '/default/jobs/p-target', [{ op: 'add', path: '/spec/ports/5', value: 1 }], 'application/json-patch+json'),
      400,
      /out of range/,
    );
    assertStatus(
      await call('PATCH', '/default/jobs/p-target', [{ op: 'move', from: '/spec', path: '/spec/x' }], 'application/json-patch+json'),
      400,
      /own child/,
    );
    assertStatus(await call('PATCH', '/default/jobs/p-target', [{ op: 'frob', path: '/spec' }], 'application/json-patch+json'), 400, /not one of add/);
  });

  test('a merge patch whose result is over the limits is refused', async () => {
    const res = await call('PATCH', '/default/jobs/p-target', { metadata: { annotations: { a: 'x'.repeat(300 * 1024) } } }, 'application/merge-patch+json');
    assertInvalid(res, 'metadata.annotations');
  });
});

test('defaults are the documented ones', () => {
  assert.equal(DEFAULT_LIMITS.maxReplicas, 10_000);
  assert.equal(DEFAULT_LIMITS.maxEnvEntryBytes, 128 * 1024);
  assert.throws(() => setLimits({ maxReplicas: 0 }), /positive integer/);
});

test('YAML nested in blocks is refused while lexing, before the parser recurses', async () => {
  const block = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' v\n';
  assertStatus(await call('POST', '/default/jobs', block, 'application/yaml'), 400, /nested deeper than 64 levels/);
  assertStatus(await call('POST', '/default/jobs', `${'- '.repeat(5000)}x\n`, 'application/yaml'), 400, /nested deeper than 64 levels/);
});
