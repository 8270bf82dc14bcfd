import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCustomColumns, renderCustomColumns, sortByPath } from './custom-columns.js';
import { JsonPathError, evaluate, renderJsonPath } from './jsonpath.js';

const job = (name: string, phase?: string, created = '2026-01-01T00:00:00Z') => ({
  kind: 'Job',
  metadata: { name, creationTimestamp: created, labels: { app: 'web' } },
  spec: { replicas: 2, ports: [80, 443] },
  ...(phase ? { status: { phase } } : {}),
});
const list = { kind: 'JobList', items: [job('a', 'RUNNING'), job('b')] };

test('jsonpath: fields, [*], indexes, quoted keys, recursive descent', () => {
  assert.equal(renderJsonPath('{.metadata.name}', job('x')), 'x');
  assert.equal(renderJsonPath('{.items[*].metadata.name}', list), 'a b');
  assert.equal(renderJsonPath('{.items[0].metadata.name}', list), 'a');
  assert.equal(renderJsonPath('{.items[-1].metadata.name}', list), 'b');
  assert.equal(renderJsonPath("{.metadata.labels['app']}", job('x')), 'web');
  assert.equal(renderJsonPath('{$.spec.ports}', job('x')), '[80,443]');
  assert.equal(renderJsonPath('{..phase}', list), 'RUNNING');
  assert.equal(renderJsonPath('.metadata.name', job('x')), 'x', 'no braces: one expression');
  assert.equal(renderJsonPath('{.status.phase}', job('x')), '', 'missing field prints nothing');
  assert.deepEqual(evaluate('.spec.ports[*]', job('x')), [80, 443]);
});

test('jsonpath: text, string literals and range', () => {
  assert.equal(renderJsonPath('{range .items[*]}{.metadata.name}{"\\n"}{end}', list), 'a\nb\n');
  assert.equal(renderJsonPath('name={.metadata.name} n={.spec.replicas}', job('x')), 'name=x n=2');
  assert.equal(renderJsonPath('{range .items[*]}{.metadata.name}{\'\\t\'}{.status.phase}{"\\n"}{end}', list), 'a\\tRUNNING\nb\\t\n');
  assert.throws(() => renderJsonPath('{range .items[*]}{.x}', list), JsonPathError);
  assert.throws(() => renderJsonPath('{.a[?(@.x)]}', list), JsonPathError);
  assert.throws(() => renderJsonPath('{.a', list), JsonPathError);
});

test('custom-columns: headers, <none>, several values, --no-headers', () => {
  const cols = parseCustomColumns('NAME:.metadata.name,PHASE:.status.phase,PORTS:{.spec.ports[*]}');
  assert.equal(renderCustomColumns(cols, list.items), 'NAME   PHASE     PORTS\na      RUNNING   80,443\nb      <none>    80,443\n');
  assert.equal(renderCustomColumns(cols, list.items, true), 'a   RUNNING   80,443\nb   <none>    80,443\n');
  assert.throws(() => parseCustomColumns('NAME'), JsonPathError);
  assert.throws(() => parseCustomColumns(''), JsonPathError);
});

test('--sort-by: text, numbers, missing values last, stable', () => {
  const items = [job('c', 'x', '2026-03-01T00:00:00Z'), job('a', undefined, '2026-01-01T00:00:00Z'), job('b', 'y', '2026-02-01T00:00:00Z')];
  assert.deepEqual(
    sortByPath(items, '.metadata.creationTimestamp').map((o) => o.metadata.name),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    sortByPath(items, '{.status.phase}').map((o) => o.metadata.name),
    ['c', 'b', 'a'],
  );
  const nums = [{ n: 10 }, { n: 9 }, { n: 100 }];
  assert.deepEqual(sortByPath(nums, '.n'), [{ n: 9 }, { n: 10 }, { n: 100 }]);
});
