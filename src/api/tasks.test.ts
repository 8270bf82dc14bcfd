import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDescribe } from '../cli/commands/describe.js';
import { jobKind } from './kinds/job.js';
import { taskRows } from './tasks.js';

const status = {
  phase: 'FAILED',
  taskStatus: { a: { 'x-10': 'COMPLETED', 'x-2': 'FAILED' } },
  taskDetails: { a: { 'x-2': { exitCode: 3, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z' } } },
};

test('taskRows: one row per task in rank order, with exit code, start and finish when known', () => {
  assert.deepEqual(taskRows(status), [
    ['a', 'x-2', 'FAILED', '3', '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z'],
    ['a', 'x-10', 'COMPLETED', '', '', ''],
  ]);
  assert.deepEqual(taskRows(undefined), []);
});

test('describe job shows the Tasks table with the exit code', () => {
  const out = renderDescribe(jobKind as never, { kind: 'Job', metadata: { name: 'x', namespace: 'default' }, spec: {}, status } as never, []);
  assert.match(out, /Tasks:\n\s+CLUSTER\s+TASK\s+STATE\s+EXIT CODE\s+STARTED\s+FINISHED\n\s+a\s+x-2\s+FAILED\s+3\s+2026-01-01T00:00:00.000Z/);
});
