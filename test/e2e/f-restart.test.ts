/**
 * e2e (f): kill -9 of the whole skyshift process while 20 jobs run, then a
 * restart on the same store: every job completes and every replica ran
 * exactly once (per-replica start and end markers in a shared file).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countMarkers, createLocalClusters, job, phaseIs, sleep, startSkyShift, waitForJobs, type SkyShiftInstance } from '../infra/skyshift.js';

const JOBS = 20;
const replicasOf = (i: number) => (i % 2 === 0 ? 1 : 2); // 30 replicas in all

describe('e2e f: kill -9 and restart while jobs run', { timeout: 240_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [
      { name: 'r1', cpus: 20 },
      { name: 'r2', cpus: 20 },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('every job completes; every replica started and ended exactly once', async () => {
    const starts = join(sky.shared, 'starts');
    const ends = join(sky.shared, 'ends');
    const names = Array.from({ length: JOBS }, (_, i) => `rj-${i}`);
    const run = `echo "$SKYSHIFT_JOB-$SKYSHIFT_REPLICA" >> ${starts}; sleep 6; echo "$SKYSHIFT_JOB-$SKYSHIFT_REPLICA" >> ${ends}`;
    await Promise.all(names.map((n, i) => sky.client.create('jobs', job(n, run, { replicas: replicasOf(i) }))));
    const expected = names.flatMap((n, i) => Array.from({ length: replicasOf(i) }, (_, r) => `default/${n}-${r}`)).sort();

    // Kill while work is in flight: some replicas started, none finished yet.
    const deadline = Date.now() + 30_000;
    while ([...countMarkers(starts).keys()].length < 10 && Date.now() < deadline) await sleep(50);
    const startedBeforeKill = [...countMarkers(starts).keys()].length;
    assert.ok(startedBeforeKill >= 10, `replicas should have started before the kill (${startedBeforeKill})`);
    assert.equal(countMarkers(ends).size, 0, 'no replica should have finished before the kill');
    await sky.kill9();
    await sleep(1000);
    await sky.restart();

    const done = await waitForJobs(sky.client, 'default', names, phaseIs('COMPLETED', 'FAILED'), 90_000, 'finished after restart');
    const failed = done.filter((j) => j.status.phase !== 'COMPLETED');
    assert.deepEqual(
      failed.map((j) => `${j.metadata.name}: ${JSON.stringify(j.status)}`),
      [],
      `jobs that did not complete (started before kill: ${startedBeforeKill})`,
    );

    const startCounts = countMarkers(starts);
    const endCounts = countMarkers(ends);
    assert.deepEqual([...startCounts.keys()].sort(), expected, 'every replica started');
    const twiceStarted = [...startCounts].filter(([, n]) => n !== 1);
    assert.deepEqual(twiceStarted, [], 'replicas started more than once');
    assert.deepEqual([...endCounts.keys()].sort(), expected, 'every replica finished');
    assert.deepEqual(
      [...endCounts].filter(([, n]) => n !== 1),
      [],
      'replicas finished more than once',
    );
  });
});
