/**
 * e2e (c): FilterPolicies. Jobs a policy applies to never land on the excluded
 * cluster (even when it is the only one with room: they wait); a policy
 * created later evicts matching replicas running on the newly excluded
 * cluster, and they finish elsewhere.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  clustersWithState,
  conditionText,
  createLocalClusters,
  job,
  phaseIs,
  placementCounts,
  sleep,
  startSkyShift,
  waitForEvent,
  waitForJob,
  waitForJobs,
  type SkyShiftInstance,
} from '../infra/skyshift.js';
import { readFileSync } from 'node:fs';

function policy(name: string, labelsSelector: Record<string, string>, exclude: string[]) {
  return { kind: 'FilterPolicy', metadata: { name, namespace: 'default' }, spec: { labelsSelector, clusterFilter: { exclude } } };
}

describe('e2e c: FilterPolicy', { timeout: 180_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [
      { name: 'c1', cpus: 4, labels: { site: 'one' } },
      { name: 'c2', cpus: 4, labels: { site: 'two' } },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('matching jobs never land on the excluded cluster; others still may', async () => {
    await sky.client.create('filterpolicies', policy('no-c1-for-a', { team: 'a' }, ['c1']));
    await sleep(1500); // let the scheduler's informer see the policy first
    const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const n of names) await sky.client.create('jobs', job(n, 'sleep 3', { labels: { team: 'a' } }));
    // c2 has 4 cpus: four run there, the fifth must wait rather than use c1.
    const pendingOne = await waitForJobs(
      sky.client,
      'default',
      names,
      (j) => ['ACTIVE', 'PENDING', 'COMPLETED'].includes(j.status?.phase),
      30_000,
      'scheduled or pending',
    );
    const waiting = pendingOne.filter((j) => j.status.phase === 'PENDING');
    assert.ok(waiting.length >= 1, `one team=a job should wait while c2 is full: ${JSON.stringify(pendingOne.map((j) => [j.metadata.name, j.status.phase]))}`);
    const why = conditionText(waiting[0]!);
    assert.match(why, /c1: [^\n]*(FilterPolicy|policy)[^\n]*/i, `reason should name the policy for c1: ${why}`);

    await sky.client.create('jobs', job('b1', 'sleep 1', { labels: { team: 'b' } }));
    const done = await waitForJobs(sky.client, 'default', names, phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    for (const j of done) {
      assert.equal(j.status.phase, 'COMPLETED', `${j.metadata.name}: ${JSON.stringify(j.status)}`);
      assert.deepEqual(Object.keys(placementCounts(j)), ['c2'], `${j.metadata.name} ran on ${JSON.stringify(j.status.replicaStatus)}`);
    }
    const b1 = await waitForJob(sky.client, 'default', 'b1', phaseIs('COMPLETED', 'FAILED'), 30_000);
    assert.equal(b1.status.phase, 'COMPLETED', JSON.stringify(b1.status));
    // An unmatched job is free to use c1 (c2 was full when it arrived).
    assert.deepEqual(Object.keys(placementCounts(b1)), ['c1'], JSON.stringify(b1.status));
  });

  test('a new policy evicts matching replicas from the excluded cluster; they finish elsewhere', async () => {
    const marks = join(sky.shared, 'mover-marks');
    const run = `echo "start $SKYSHIFT_REPLICA $PWD" >> ${marks}; sleep 8; echo "end $SKYSHIFT_REPLICA $PWD" >> ${marks}`;
    await sky.client.create(
      'jobs',
      job('mover', run, { replicas: 2, labels: { team: 'm' }, placement: { preferences: [{ name: 'one', matchLabels: { site: 'one' }, weight: 100 }] } }),
    );
    // Wait until both replicas run on c1 (preferred).
    const running = await waitForJob(
      sky.client,
      'default',
      'mover',
      (j) => (j.status?.replicaStatus?.c1?.RUNNING ?? 0) === 2,
      30_000,
      '2 replicas RUNNING on c1',
    );
    assert.deepEqual(clustersWithState(running, 'RUNNING'), ['c1']);

    await sky.client.create('filterpolicies', policy('no-c1-for-m', { team: 'm' }, ['c1']));
    const done = await waitForJob(sky.client, 'default', 'mover', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.equal(done.status.replicaStatus?.c2?.COMPLETED, 2, `replicas should complete on c2: ${JSON.stringify(done.status.replicaStatus)}`);
    assert.ok(!(done.status.replicaStatus?.c1?.COMPLETED > 0), `nothing may complete on c1: ${JSON.stringify(done.status.replicaStatus)}`);

    await waitForEvent(sky.client, 'default', 'mover', 'Evicted');

    const lines = readFileSync(marks, 'utf8').trim().split('\n');
    const ends = lines.filter((l) => l.startsWith('end '));
    assert.equal(ends.length, 2, `exactly two replica ends expected (the evicted ones were killed): ${lines.join(' | ')}`);
    for (const l of ends) assert.match(l, /\/clusters\/c2\//, `replica finished outside c2: ${l}`);
    assert.equal(lines.filter((l) => /^start \d \S*\/clusters\/c1\//.test(l)).length, 2, lines.join(' | '));
  });
});
