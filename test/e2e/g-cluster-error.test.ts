/**
 * e2e (g): a local cluster whose workdir becomes unusable (the directory is
 * moved away and a plain file put in its place) goes ERROR; after the
 * eviction grace period its replicas are rescheduled onto the other cluster
 * and complete there. When the workdir comes back the cluster is READY again.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalClusters, job, phaseIs, startSkyShift, waitForCluster, waitForEvent, waitForJob, type SkyShiftInstance } from '../infra/skyshift.js';

describe('e2e g: a cluster that stops answering', { timeout: 180_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1', '--eviction-grace-seconds', '3'] });
    await createLocalClusters(sky, [
      { name: 'flaky', cpus: 4, labels: { pref: 'yes' } },
      { name: 'steady', cpus: 4 },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('ERROR, eviction, rescheduling, completion elsewhere, READY on recovery', async () => {
    const marks = join(sky.shared, 'marks');
    const run = `echo "start $SKYSHIFT_REPLICA $PWD" >> ${marks}; sleep 10; echo "end $SKYSHIFT_REPLICA $PWD" >> ${marks}`;
    await sky.client.create(
      'jobs',
      job('victim', run, { replicas: 2, placement: { preferences: [{ name: 'p', matchLabels: { pref: 'yes' }, weight: 100 }] } }),
    );
    await waitForJob(sky.client, 'default', 'victim', (j) => (j.status?.replicaStatus?.flaky?.RUNNING ?? 0) === 2, 30_000, '2 RUNNING on flaky');

    const workdir = join(sky.dir, 'clusters', 'flaky');
    renameSync(workdir, workdir + '.moved');
    writeFileSync(workdir, 'not a directory\n');
    const brokenAt = Date.now();

    const errored = await waitForCluster(sky.client, 'flaky', 'ERROR', 20_000);
    assert.ok(errored.status.message, `ERROR should carry a message: ${JSON.stringify(errored.status)}`);

    const done = await waitForJob(sky.client, 'default', 'victim', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.equal(done.status.replicaStatus?.steady?.COMPLETED, 2, JSON.stringify(done.status.replicaStatus));
    await waitForEvent(sky.client, 'default', 'victim', 'Evicted');

    const ends = readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('end '));
    const onSteady = ends.filter((l) => /\/clusters\/steady\//.test(l));
    assert.equal(onSteady.length, 2, `both replicas should finish on steady: ${ends.join(' | ')}`);
    assert.ok(Date.now() - brokenAt < 60_000);

    // Recovery: the workdir comes back, the cluster is READY again.
    rmSync(workdir);
    renameSync(workdir + '.moved', workdir);
    await waitForCluster(sky.client, 'flaky', 'READY', 20_000);
  });
});
