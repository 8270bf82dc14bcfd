/**
 * e2e (b): two local clusters of 2 cpus each. A 4 x 1-cpu job is spread 2 + 2;
 * a fifth 1-cpu job waits PENDING with per-cluster reasons naming both
 * clusters, and runs once capacity frees.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  conditionText,
  createLocalClusters,
  job,
  phaseIs,
  placementCounts,
  startSkyShift,
  waitForEvent,
  waitForJob,
  type SkyShiftInstance,
} from '../infra/skyshift.js';

describe('e2e b: spread over two clusters, then queue', { timeout: 150_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [
      { name: 'c1', cpus: 2 },
      { name: 'c2', cpus: 2 },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('4 replicas x 1 cpu land 2 + 2; a fifth job waits with reasons, then runs', async () => {
    await sky.client.create('jobs', job('spread', 'sleep 8', { replicas: 4, cpus: 1 }));
    const active = await waitForJob(
      sky.client,
      'default',
      'spread',
      (j) => j.status?.phase === 'ACTIVE' && Object.values(placementCounts(j)).reduce((a, b) => a + b, 0) === 4,
      30_000,
      'ACTIVE with 4 replicas placed',
    );
    assert.deepEqual(placementCounts(active), { c1: 2, c2: 2 }, `status ${JSON.stringify(active.status)}`);

    const submittedAt = Date.now();
    await sky.client.create('jobs', job('fifth', 'echo fifth ran', { cpus: 1 }));
    const pending = await waitForJob(
      sky.client,
      'default',
      'fifth',
      (j) => j.status?.phase === 'PENDING' && /c1/.test(conditionText(j)) && /c2/.test(conditionText(j)),
      15_000,
      'PENDING with reasons naming c1 and c2',
    );
    const reasons = conditionText(pending);
    assert.match(reasons, /c1: [^\n]*(insufficient|cpus)/i, reasons);
    assert.match(reasons, /c2: [^\n]*(insufficient|cpus)/i, reasons);
    await waitForEvent(sky.client, 'default', 'fifth', 'FailedScheduling');

    // While `spread` holds every cpu, the fifth job must not start.
    const still = await sky.client.get<any>('jobs', 'fifth');
    const spreadNow = await sky.client.get<any>('jobs', 'spread');
    if (spreadNow.status.phase === 'ACTIVE') assert.equal(still.status.phase, 'PENDING', JSON.stringify(still.status));

    const spreadDone = await waitForJob(sky.client, 'default', 'spread', phaseIs('COMPLETED', 'FAILED'), 40_000, 'spread finished');
    assert.equal(spreadDone.status.phase, 'COMPLETED', JSON.stringify(spreadDone.status));
    const fifth = await waitForJob(sky.client, 'default', 'fifth', phaseIs('COMPLETED', 'FAILED'), 30_000, 'fifth finished');
    assert.equal(fifth.status.phase, 'COMPLETED', JSON.stringify(fifth.status));
    assert.ok(Date.now() - submittedAt > 3000, 'the fifth job should have waited for the spread job');
    const placed = placementCounts(fifth);
    assert.equal(
      Object.values(placed).reduce((a, b) => a + b, 0),
      1,
      JSON.stringify(fifth.status),
    );
    assert.ok(['c1', 'c2'].includes(Object.keys(placed)[0]!), JSON.stringify(placed));
  });
});
