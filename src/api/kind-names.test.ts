import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS, MANAGERS, MANAGER_ALIASES, resolveKind } from './index.js';
import { KIND_NAMES, MANAGER_NAMES, MANAGER_NAME_ALIASES, resolveKindName } from './kind-names.js';

test('the schema-free kind table equals the registry, name for name', () => {
  const names = KINDS.map(({ kind, listKind, plural, singular, shortNames, namespaced }) => ({ kind, listKind, plural, singular, shortNames, namespaced }));
  assert.deepEqual(KIND_NAMES, names);
  for (const k of KINDS) for (const n of [k.plural, k.singular, k.kind, ...k.shortNames]) assert.equal(resolveKindName(n)?.kind, resolveKind(n)?.kind, n);
  assert.equal(resolveKindName('nope'), undefined);
});

test("the schema-free manager names equal the cluster schema's", () => {
  assert.deepEqual([...MANAGER_NAMES], [...MANAGERS]);
  assert.deepEqual(MANAGER_NAME_ALIASES, MANAGER_ALIASES);
});
