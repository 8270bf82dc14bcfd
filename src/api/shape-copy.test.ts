import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copy } from './shape.js';

test('copy: a deep, independent copy of JSON values, like structuredClone', () => {
  const value = JSON.parse('{"a":{"b":[1,{"c":null}],"s":"x"},"n":1.5,"t":true,"__proto__":{"p":1}}') as Record<string, unknown>;
  const out = copy(value) as Record<string, unknown>;
  assert.deepEqual(out, structuredClone(value));
  assert.notEqual(out.a, value.a);
  assert.notEqual((out.a as { b: unknown }).b, (value.a as { b: unknown }).b);
  assert.ok(Object.hasOwn(out, '__proto__'), '"__proto__" stays an own property');
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(copy('s'), 's');
  assert.equal(copy(null), null);
  const date = new Date(0);
  assert.deepEqual(copy({ d: date }), { d: date });
});
