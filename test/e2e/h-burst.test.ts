/**
 * e2e (h): 200 one-cpu jobs submitted at once onto two local clusters of 25
 * cpus (50 at a time). Every replica records its start and end time; the
 * largest number running at once must never exceed 50 (and per cluster 25),
 * and all 200 complete, each exactly once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { markedRun, readMarks } from '../support/marks.js';
import { createLocalClusters, job, maxOverlap, phaseIs, startSkyShift, waitForJobs, type SkyShiftInstance } from '../infra/skyshift.js';

const N = 200;

describe('e2e h: a burst never over-commits', { timeout: 300_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [
      { name: 'h1', cpus: 25 },
      { name: 'h2', cpus: 25 },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  test(`${N} jobs, capacity 50: max overlap <= 50, all complete once`, async () => {
    const marks = join(sky.shared, 'marks');
    const run = markedRun(marks);
    const names = Array.from({ length: N }, (_, i) => `burst-${i}`);
    const t0 = Date.now();
    // All at once: 50 requests in flight.
    for (let i = 0; i < N; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => sky.client.create('jobs', job(n, run, { cpus: 1, memory: 16 }))));
    }
    const done = await waitForJobs(sky.client, 'default', names, phaseIs('COMPLETED', 'FAILED'), 240_000, 'finished');
    const elapsed = Date.now() - t0;
    const failed = done.filter((j) => j.status.phase !== 'COMPLETED');
    assert.deepEqual(
      failed.map((j) => `${j.metadata.name}: ${JSON.stringify(j.status)}`),
      [],
    );

    const { starts, ends: endsBy, intervals } = readMarks(marks);
    assert.equal(starts.size, N, `replicas that started: ${starts.size}`);
    assert.deepEqual(
      [...starts].filter(([, s]) => s.length !== 1).map(([id]) => id),
      [],
      'replicas started more than once',
    );
    assert.equal(endsBy.size, N, `replicas that ended: ${endsBy.size}`);

    const overall = maxOverlap(intervals.map(([s, e]) => [s, e]));
    const per = (c: string) => maxOverlap(intervals.filter((i) => i[2] === c).map(([s, e]) => [s, e]));
    const diag = `max overlap ${overall} (h1 ${per('h1')}, h2 ${per('h2')}), ${N} jobs in ${(elapsed / 1000).toFixed(1)} s`;
    console.log(`# ${diag}`);
    assert.ok(overall <= 50, `over-commit: ${diag}`);
    assert.ok(per('h1') <= 25, `over-commit on h1: ${diag}`);
    assert.ok(per('h2') <= 25, `over-commit on h2: ${diag}`);
    // The burst should actually use the capacity, not run one at a time.
    assert.ok(overall >= 25, `capacity barely used: ${diag}`);
  });
});
