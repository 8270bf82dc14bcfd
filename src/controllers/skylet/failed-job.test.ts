/** A FAILED job's unfinished replicas are cancelled, marked CANCELLED and an Event recorded (Kubernetes backoffLimit semantics). */
import assert from 'node:assert/strict';
import { type Job } from '../../api/index.js';
import { after, before, test } from 'node:test';
import { SkyShiftClient } from '../../client/index.js';
import type { ClusterManager } from '../../managers/index.js';
import { createApiServer, type ApiServer } from '../../server/index.js';
import { openStore } from '../../store/index.js';
import type { EventRecorder } from '../runtime/events.js';
import { cancelFailedJob } from './failed-job.js';

let server: ApiServer;
let client: SkyShiftClient;

before(async () => {
  server = createApiServer({ store: await openStore('memory:') });
  client = new SkyShiftClient({ server: await server.start({ host: '127.0.0.1', port: 0 }) });
});
after(async () => server.close());

test('cancels only the unfinished replicas of a FAILED job and records why', async () => {
  const job = await client.create<Job>('jobs', { kind: 'Job', metadata: { name: 'f', namespace: 'default' }, spec: { run: 'x', replicas: 3 } });
  job.status = { ...job.status, phase: 'FAILED', placements: { a: [0, 1, 2] }, taskStatus: { a: { 'f-0': 'FAILED', 'f-1': 'RUNNING', 'f-2': 'COMPLETED' } } };
  const failed = await client.updateStatus<Job>('jobs', job);
  const cancels: { uid: string; ranks: number[] | undefined }[] = [];
  const manager: Pick<ClusterManager, 'cancel'> = { cancel: async (ref, ranks) => void cancels.push({ uid: ref.uid, ranks }) };
  const events: string[] = [];
  const recorder: Pick<EventRecorder, 'record'> = { record: (_o, reason, message) => void events.push(`${reason}: ${message}`) };

  const ranks = await cancelFailedJob({ client, events: recorder }, manager, 'a', failed, new AbortController().signal);
  assert.deepEqual(ranks, [1]);
  assert.deepEqual(cancels, [{ uid: failed.metadata.uid, ranks: [1] }]);
  const stored = await client.get<Job>('jobs', 'f', { namespace: 'default' });
  assert.equal(stored.status.phase, 'FAILED');
  assert.deepEqual(stored.status.taskStatus, { a: { 'f-0': 'FAILED', 'f-1': 'CANCELLED', 'f-2': 'COMPLETED' } });
  assert.deepEqual(stored.status.replicaStatus, { a: { FAILED: 1, CANCELLED: 1, COMPLETED: 1 } });
  assert.equal(events.length, 1);
  assert.match(events[0] ?? '', /^Cancelled: cancelled replicas 1 on cluster 'a': job FAILED/);
  // Idempotent: nothing left to cancel.
  assert.deepEqual(await cancelFailedJob({ client, events: recorder }, manager, 'a', stored, new AbortController().signal), []);
});
