import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { sortPending } from './queue-order.js';

describe('pending queue order', () => {
  it('priority desc, then creation time asc, then namespace/name', () => {
    const jobs = [
      { namespace: 'b', name: 'x', priority: 0, creationTimestamp: '2026-11-22T10:00:00Z' },
      { namespace: 'a', name: 'y', priority: 0, creationTimestamp: '2026-11-22T10:00:00Z' },
      { namespace: 'a', name: 'old', creationTimestamp: '2026-11-22T09:00:00Z' },
      { namespace: 'a', name: 'urgent', priority: 10, creationTimestamp: '2026-11-22T11:00:00Z' },
      { namespace: 'a', name: 'undated', priority: 0 },
      { namespace: 'a', name: 'low', priority: -1, creationTimestamp: '2026-01-01T00:00:00Z' },
    ];
    assert.deepEqual(
      sortPending(jobs).map((j) => `${j.namespace}/${j.name}`),
      ['a/urgent', 'a/old', 'a/y', 'b/x', 'a/undated', 'a/low'],
    );
  });
});
