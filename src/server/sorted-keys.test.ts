import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortedKeys } from './sorted-keys.js';

function scanAll(keys: SortedKeys, from = ''): string[] {
  const out: string[] = [];
  keys.scanFrom(from, (k) => (out.push(k), true));
  return out;
}

test('SortedKeys matches a sorted array under random inserts, removes and scans', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const keys = new SortedKeys();
  const model = new Set<string>();
  for (let step = 0; step < 20_000; step++) {
    const key = `/registry/jobs/ns${rand(3)}/j-${rand(3000)}`;
    if (rand(3) === 0) {
      keys.remove(key);
      model.delete(key);
    } else {
      keys.insert(key);
      model.add(key);
    }
    if (step % 2000 === 0) {
      const sorted = [...model].sort();
      assert.deepEqual(scanAll(keys), sorted);
      const from = `/registry/jobs/ns1/j-${rand(3000)}`;
      assert.deepEqual(
        scanAll(keys, from),
        sorted.filter((k) => k >= from),
      );
    }
  }
  assert.equal(keys.size, model.size);
  keys.reset([...model].reverse());
  assert.deepEqual(scanAll(keys), [...model].sort());
  assert.equal(keys.size, model.size);
});

test('SortedKeys: scan stops when the visitor says so; empty set scans nothing', () => {
  const keys = new SortedKeys();
  assert.deepEqual(scanAll(keys, 'a'), []);
  keys.remove('x');
  for (const k of ['b', 'a', 'd', 'c']) keys.insert(k);
  keys.insert('a');
  assert.equal(keys.size, 4);
  const seen: string[] = [];
  keys.scanFrom('b', (k) => (seen.push(k), k < 'c'));
  assert.deepEqual(seen, ['b', 'c']);
  assert.deepEqual(scanAll(keys, 'e'), []);
});
