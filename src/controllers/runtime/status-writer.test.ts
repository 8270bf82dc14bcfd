/**
 * Lost updates: several skylets merge their own cluster's share into one Job
 * at the same time, each from the (possibly stale) informer copy. Every write
 * must carry the resourceVersion it was computed from and re-read on 409, so
 * no writer's fields are ever lost and a stale copy never overwrites newer
 * state. Runs against a real in-process API server (memory store).
 */
import assert from 'node:assert/strict';
import { deriveReplicaStatus, finishStatus, type Job } from '../../api/index.js';
import { after, before, test } from 'node:test';
import { SkyShiftClient } from '../../client/index.js';
import { createApiServer, type ApiServer } from '../../server/index.js';
import { openStore } from '../../store/index.js';
import { mutateStatus } from './status-writer.js';

let server: ApiServer;
let client: SkyShiftClient;

before(async () => {
  const store = await openStore('memory:');
  server = createApiServer({ store });
  client = new SkyShiftClient({ server: await server.start({ host: '127.0.0.1', port: 0 }) });
});

after(async () => {
  await server.close();
});

async function placedJob(name: string, clusters: string[]): Promise<Job> {
  const job = await client.create<Job>('jobs', {
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { run: 'sleep 1', replicas: clusters.length * 2 },
  });
  job.status.phase = 'ACTIVE';
  job.status.placements = Object.fromEntries(clusters.map((c, i) => [c, [2 * i, 2 * i + 1]]));
  finishStatus(job);
  return client.updateStatus<Job>('jobs', job);
}

/** What a skylet's job sync does: replace only its own cluster's taskStatus, then re-derive. */
function skyletMerge(cluster: string, tasks: Record<string, string>) {
  return (j: Job) => {
    j.status.taskStatus = { ...(j.status.taskStatus ?? {}), [cluster]: tasks };
    finishStatus(j);
    return true;
  };
}

test("concurrent skylet merges into one job lose no cluster's taskStatus", async () => {
  const clusters = Array.from({ length: 8 }, (_, i) => `c${i}`);
  const job = await placedJob('merge', clusters);
  // Every skylet starts from the same informer copy, as they would within one heartbeat.
  await Promise.all(
    clusters.map((c, i) =>
      mutateStatus(client, 'jobs', job, skyletMerge(c, { [`merge-${2 * i}`]: 'RUNNING', [`merge-${2 * i + 1}`]: 'RUNNING' }), { attempts: 20 }),
    ),
  );
  const stored = await client.get<Job>('jobs', 'merge', { namespace: 'default' });
  assert.deepEqual(Object.keys(stored.status.taskStatus ?? {}).sort(), clusters);
  const running = Object.values(stored.status.replicaStatus ?? {}).reduce((n, s) => n + (s.RUNNING ?? 0), 0);
  assert.equal(running, clusters.length * 2, 'every replica reported RUNNING by its skylet is counted');
  assert.deepEqual(stored.status.replicaStatus, deriveReplicaStatus(stored));
});

test('a write computed from a stale copy is rejected (409), never applied over newer state', async () => {
  const job = await placedJob('stale', ['a', 'b']);
  const fresh = await mutateStatus(client, 'jobs', job, skyletMerge('a', { 'stale-0': 'COMPLETED', 'stale-1': 'COMPLETED' }));
  assert.ok(fresh);
  // A raw PUT from the old copy (what a writer without read-modify-write would do) must conflict...
  const blind = structuredClone(job);
  blind.status.taskStatus = { b: { 'stale-2': 'RUNNING' } };
  await assert.rejects(client.updateStatus('jobs', blind), (err: Error & { reason?: string }) => err.reason === 'Conflict');
  // ...and mutateStatus from the same stale copy re-reads and re-applies, keeping a's COMPLETED.
  await mutateStatus(client, 'jobs', job, skyletMerge('b', { 'stale-2': 'RUNNING', 'stale-3': 'RUNNING' }));
  const stored = await client.get<Job>('jobs', 'stale', { namespace: 'default' });
  assert.deepEqual(stored.status.taskStatus, { a: { 'stale-0': 'COMPLETED', 'stale-1': 'COMPLETED' }, b: { 'stale-2': 'RUNNING', 'stale-3': 'RUNNING' } });
  assert.deepEqual(stored.status.replicaStatus, { a: { COMPLETED: 2 }, b: { RUNNING: 2 } });
});
