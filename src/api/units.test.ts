import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { canonicalResourceKey, formatMemory, formatResources, normalizeResources, parseCpus, parseMemory } from './units.js';

test('parseMemory table', () => {
  const table: [number | string, number][] = [
    [512, 512],
    [0, 0],
    ['512', 512],
    ['512Mi', 512],
    ['2Gi', 2048],
    ['2G', 2048],
    ['2GB', 2048],
    ['2 GB', 2048],
    ['2gb', 2048],
    ['1.5T', 1572864],
    ['1.5Ti', 1572864],
    ['100MB', 100],
    ['100M', 100],
    ['1024Ki', 1],
    ['1024K', 1],
    ['1048576B', 1],
    ['1P', 1024 ** 3],
    [' 3 ', 3],
    ['.5Gi', 512],
  ];
  for (const [input, mib] of table) assert.equal(parseMemory(input, 'spec.resources.memory'), mib, String(input));
});

function unitError(fn: () => unknown, field: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.reason, 'Invalid');
    assert.deepEqual(err.details?.causes, [{ field, message }]);
    assert.equal(err.message, `${field}: ${message}`);
    return true;
  });
}

test('parseMemory rejects negatives and garbage, naming the field', () => {
  unitError(() => parseMemory(-1, 'spec.resources.memory'), 'spec.resources.memory', 'must not be negative');
  unitError(() => parseMemory('-2Gi', 'spec.resources.disk'), 'spec.resources.disk', 'must not be negative');
  const hint = 'must be a number of MiB or a quantity like 512Mi, 2Gi, 2GB or 1.5T';
  unitError(() => parseMemory('lots', 'm'), 'm', `invalid quantity "lots": ${hint}`);
  unitError(() => parseMemory('2 Gigs', 'm'), 'm', `invalid quantity "2 Gigs": ${hint}`);
  unitError(() => parseMemory('', 'm'), 'm', `invalid quantity "": ${hint}`);
  unitError(() => parseMemory(Number.NaN, 'm'), 'm', hint);
  unitError(() => parseMemory(Number.POSITIVE_INFINITY, 'm'), 'm', hint);
});

test('formatMemory', () => {
  const table: [number, string][] = [
    [0, '0'],
    [512, '512Mi'],
    [1024, '1Gi'],
    [1536, '1.5Gi'],
    [2048, '2Gi'],
    [1572864, '1.5Ti'],
    [0.5, '512Ki'],
    [1024 ** 3, '1Pi'],
  ];
  for (const [mib, text] of table) assert.equal(formatMemory(mib), text, String(mib));
  for (const v of [512, 2048, 1536, 1572864]) assert.equal(parseMemory(formatMemory(v), 'x'), v);
});

test('parseCpus', () => {
  assert.equal(parseCpus(2, 'c'), 2);
  assert.equal(parseCpus('2', 'c'), 2);
  assert.equal(parseCpus('1.5', 'c'), 1.5);
  assert.equal(parseCpus('500m', 'c'), 0.5);
  assert.equal(parseCpus(' 250m ', 'c'), 0.25);
  unitError(() => parseCpus(-1, 'c'), 'c', 'must not be negative');
  unitError(() => parseCpus('-1', 'c'), 'c', 'must not be negative');
  unitError(() => parseCpus('two', 'c'), 'c', 'invalid quantity "two": must be a number of cores like 2, 0.5 or 500m');
});

test('resource keys', () => {
  assert.equal(canonicalResourceKey('cpu'), 'cpus');
  assert.equal(canonicalResourceKey('CPUS'), 'cpus');
  assert.equal(canonicalResourceKey('gpu'), 'gpus');
  assert.equal(canonicalResourceKey('Memory'), 'memory');
  assert.equal(canonicalResourceKey('A100'), 'A100');
  assert.equal(canonicalResourceKey('t4'), 't4');
  assert.equal(canonicalResourceKey('RTX_4090'), 'RTX_4090');
  assert.equal(canonicalResourceKey('nvidia.com-gpu'), 'nvidia.com-gpu');
  assert.equal(canonicalResourceKey('a b'), undefined);
  assert.equal(canonicalResourceKey('-x'), undefined);
});

test('normalizeResources: aliases, units, zeros dropped, gpus and typed GPUs together', () => {
  assert.deepEqual(normalizeResources({ cpu: '500m', memory: '2Gi', disk: 100, T4: 0, A100: 2, gpu: 2 }, 'r'), {
    cpus: 0.5,
    memory: 2048,
    disk: 100,
    A100: 2,
    gpus: 2,
  });
  assert.deepEqual(normalizeResources({ T4: '1' }, 'r'), { T4: 1 });
  assert.deepEqual(normalizeResources({}, 'r'), {});
});

test('normalizeResources reports every bad entry', () => {
  assert.throws(
    () => normalizeResources({ cpu: 1, cpus: 2, memory: 'x', 'a b': 1, A100: -1, gpus: true }, 'spec.resources'),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.deepEqual(err.details?.causes, [
        { field: 'spec.resources.cpus', message: 'specified twice (cpu and cpus)' },
        { field: 'spec.resources.memory', message: 'invalid quantity "x": must be a number of MiB or a quantity like 512Mi, 2Gi, 2GB or 1.5T' },
        { field: 'spec.resources.a b', message: 'invalid resource name: use cpus, memory, disk, gpus or a GPU type such as A100' },
        { field: 'spec.resources.A100', message: 'must not be negative' },
        { field: 'spec.resources.gpus', message: 'must be a number' },
      ]);
      return true;
    },
  );
  assert.throws(() => normalizeResources([], 'r'), /r: must be an object of resource amounts/);
});

test('formatResources', () => {
  assert.equal(formatResources({ cpus: 2, memory: 4096, A100: 1 }), 'cpus: 2, memory: 4Gi, A100: 1');
});

test('resource keys never name Object.prototype members; names and amounts are bounded', () => {
  for (const key of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'A'.repeat(64)]) {
    assert.equal(canonicalResourceKey(key), undefined, key);
  }
  assert.equal(canonicalResourceKey('A'.repeat(63)), 'A'.repeat(63));
  assert.throws(
    () => normalizeResources(JSON.parse('{"__proto__": 1, "constructor": 1}'), 'r'),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.deepEqual(
        err.details?.causes?.map((c) => c.field),
        ['r.__proto__', 'r.constructor'],
      );
      return true;
    },
  );
  unitError(() => normalizeResources({ cpus: 1e10 }, 'r'), 'r.cpus', 'must be at most 1000000000');
  unitError(() => normalizeResources({ memory: '9'.repeat(65) }, 'r'), 'r.memory', 'must be a quantity of at most 64 characters, got 65');
  unitError(() => normalizeResources({ gpus: Infinity }, 'r'), 'r.gpus', 'must be a number');
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`T${i}`, 1]));
  unitError(() => normalizeResources(many, 'r'), 'r', 'must have at most 32 entries, got 33');
});
