/**
 * Fencing against a real in-process API server: ranks the manager runs that
 * are no longer placed on the agent's cluster are cancelled, jobs the server
 * no longer has are cancelled whole, placed ranks are left alone, and a
 * server that cannot be asked cancels nothing (the caller retries before
 * starting its skylet).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness } from '../../test/support/server-harness.js';
import type { Job } from '../api/index.js';
import { SkyShiftClient } from '../client/index.js';
import type { ClusterManager, JobRef, JobTasks } from '../managers/index.js';
import { fence } from './fence.js';

/** A manager that runs what `tasks` says and records cancels. */
function fakeManager(tasks: JobTasks[]): ClusterManager & { cancels: { uid: string; ranks: number[] | undefined }[] } {
  const cancels: { uid: string; ranks: number[] | undefined }[] = [];
  return {
    type: 'local',
    cancels,
    connect: async () => undefined,
    status: async () => ({ phase: 'READY', capacity: {}, allocatable: {} }),
    submit: async () => 'x',
    tasks: async () => tasks,
    cancel: async (job: JobRef, ranks?: number[]) => void cancels.push({ uid: job.uid, ranks }),
    logs: () => (async function* () {})(),
    close: async () => undefined,
  } as unknown as ClusterManager & { cancels: { uid: string; ranks: number[] | undefined }[] };
}

const running = (uid: string, name: string, ranks: number[]): JobTasks => ({
  uid,
  namespace: 'default',
  name,
  jobId: uid,
  tasks: Object.fromEntries(ranks.map((r) => [`${name}-${r}`, 'RUNNING'])),
  ranks: Object.fromEntries(ranks.map((r) => [`${name}-${r}`, r])),
});

test('fence cancels exactly the work no longer placed on the cluster', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  const client = new SkyShiftClient({ server: h.url });
  const placed = async (name: string, placements: Record<string, number[]>) => {
    const j = await client.create<Job>('jobs', { kind: 'Job', metadata: { name, namespace: 'default' }, spec: { run: 'x', replicas: 2 } });
    j.status = { ...j.status, phase: 'ACTIVE', placements } as Job['status'];
    return client.updateStatus<Job>('jobs', j, { namespace: 'default' });
  };
  const moved = await placed('moved', { lab: [0], other: [1] });
  const stays = await placed('stays', { lab: [0, 1] });
  const away = await placed('away', { other: [0, 1] });
  const m = fakeManager([
    running(moved.metadata.uid as string, 'moved', [0, 1]),
    running(stays.metadata.uid as string, 'stays', [0, 1]),
    running(away.metadata.uid as string, 'away', [0, 1]),
    running('gone-uid', 'gone', [0]),
  ]);

  const out = await fence(client, m, 'lab');
  assert.deepEqual(m.cancels, [
    { uid: moved.metadata.uid, ranks: [1] },
    { uid: away.metadata.uid, ranks: [0, 1] },
    { uid: 'gone-uid', ranks: undefined },
  ]);
  assert.deepEqual(
    out.map((f) => [f.job, f.ranks]),
    [
      ['default/moved', [1]],
      ['default/away', [0, 1]],
      ['default/gone', undefined],
    ],
  );

  // Nothing runs: the server is not even asked.
  assert.deepEqual(await fence(new SkyShiftClient({ server: 'http://127.0.0.1:9' }), fakeManager([]), 'lab'), []);
  // A server that cannot answer: nothing is cancelled, the error reaches the caller.
  const blind = fakeManager([running('u', 'j', [0])]);
  await assert.rejects(fence(new SkyShiftClient({ server: 'http://127.0.0.1:9' }), blind, 'lab'));
  assert.deepEqual(blind.cancels, []);
});
