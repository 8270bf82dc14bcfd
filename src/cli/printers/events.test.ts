import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../client/core.js';
import { involves, parseInvolved, renderTable, sortEvents } from './index.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const ev = (name: string, spec: Record<string, unknown>, created = ago(3600)): ApiObject => ({
  kind: 'Event',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { type: 'Normal', message: '', ...spec },
  status: {},
});

const scheduled = ev('e1', { involvedObject: { kind: 'Job', name: 'hello' }, reason: 'Scheduled', message: 'placed on gpu-a', lastTimestamp: ago(30) });
const failed = ev('e2', {
  involvedObject: { kind: 'Job', name: 'big' },
  reason: 'FailedScheduling',
  type: 'Warning',
  message: 'no cluster fits: gpu-a: cpus 64 > 8',
  lastTimestamp: ago(90),
});
// No lastTimestamp: falls back to firstTimestamp, then to creation.
const ready = ev('e3', { involvedObject: { kind: 'Cluster', name: 'gpu-a' }, reason: 'ClusterReady', message: 'heartbeat ok', firstTimestamp: ago(7200) });
const created = ev('e4', { involvedObject: { kind: 'Job', name: 'hello' }, reason: 'Started', message: 'replica hello-0 started' }, ago(5));

test('get events: LAST SEEN TYPE REASON OBJECT MESSAGE, oldest first by last occurrence', () => {
  const opts = { format: 'table' as const, kind: 'Event', singular: 'event', withNamespace: false, color: false, now: NOW };
  assert.equal(
    renderTable(sortEvents([scheduled, created, failed, ready]), opts).text,
    'LAST SEEN   TYPE      REASON             OBJECT          MESSAGE\n' +
      '2h          Normal    ClusterReady       cluster/gpu-a   heartbeat ok\n' +
      '1m          Warning   FailedScheduling   job/big         no cluster fits: gpu-a: cpus 64 > 8\n' +
      '30s         Normal    Scheduled          job/hello       placed on gpu-a\n' +
      '5s          Normal    Started            job/hello       replica hello-0 started\n',
  );
});

test('--for KIND/NAME accepts singular, plural and Kind spellings', () => {
  for (const text of ['job/hello', 'jobs/hello', 'Job/hello']) {
    const ref = parseInvolved(text);
    assert.deepEqual(ref, { kind: 'Job', name: 'hello' }, text);
    assert.deepEqual(
      [scheduled, failed, ready, created].filter((e) => involves(e, ref!)).map((e) => e.metadata.name),
      ['e1', 'e4'],
    );
  }
  assert.equal(parseInvolved('hello'), undefined);
  assert.equal(parseInvolved('job/a/b'), undefined);
});
