/**
 * e2e (e): a job that fits nowhere (64 cpus) stays PENDING, then runs as soon
 * as a cluster that fits is added.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  conditionText,
  createLocalClusters,
  job,
  localCluster,
  phaseIs,
  placementCounts,
  sleep,
  startSkyShift,
  waitForJob,
  type SkyShiftInstance,
} from '../infra/skyshift.js';

describe('e2e e: waits until a cluster that fits appears', { timeout: 120_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [{ name: 'small', cpus: 2 }]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('PENDING with a reason, then COMPLETED on the new big cluster', async () => {
    await sky.client.create('jobs', job('huge', 'echo huge ran', { cpus: 64 }));
    const pending = await waitForJob(sky.client, 'default', 'huge', (j) => j.status?.phase === 'PENDING' && /small/.test(conditionText(j)), 15_000, 'PENDING');
    assert.match(conditionText(pending), /small: [^\n]*insufficient cpus[^\n]*64/i, conditionText(pending));
    await sleep(3000);
    const still = await sky.client.get<any>('jobs', 'huge');
    assert.equal(still.status.phase, 'PENDING', JSON.stringify(still.status));

    const addedAt = Date.now();
    await sky.client.create('clusters', localCluster(sky.dir, 'big', 64));
    const done = await waitForJob(sky.client, 'default', 'huge', phaseIs('COMPLETED', 'FAILED'), 30_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.deepEqual(Object.keys(placementCounts(done)), ['big']);
    const waited = Date.now() - addedAt;
    assert.ok(waited < 20_000, `should run promptly once the cluster is added (took ${waited} ms)`);
  });
});
