/**
 * e2e (a): `skyshift up` with its own local cluster runs a simple job to
 * COMPLETED, and the job's output is readable through the logs API and
 * through `skyctl logs`. Real processes only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { job, listAll, phaseIs, skyctl, startSkyShift, waitForCluster, waitForJob, type SkyShiftInstance } from '../infra/skyshift.js';

describe('e2e a: a simple job on the built-in local cluster', { timeout: 120_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--local-cpus', '2', '--local-memory', '4Gi', '--heartbeat-seconds', '1'] });
  });
  after(async () => {
    await sky?.cleanup();
  });

  test('the local cluster named after the host becomes READY with the configured capacity', async () => {
    let clusters: Awaited<ReturnType<typeof listAll>> = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      clusters = await listAll(sky.client, 'clusters');
      if (clusters.some((c) => c.status?.phase === 'READY')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(clusters.length, 1, `expected exactly the local cluster, got ${JSON.stringify(clusters.map((c) => c.metadata.name))}`);
    const local = await waitForCluster(sky.client, clusters[0]!.metadata.name);
    assert.equal(local.spec.manager, 'local');
    const cpus = Object.values((local.status.capacity ?? {}) as Record<string, { cpus?: number }>).reduce((s, n) => s + (n.cpus ?? 0), 0);
    assert.equal(cpus, 2, `capacity ${JSON.stringify(local.status.capacity)}`);
  });

  test('a job reaches COMPLETED and its logs hold its output', async () => {
    await sky.client.create('jobs', job('hello', 'echo "Sky says hi from replica $SKYSHIFT_REPLICA of $SKYSHIFT_JOB"; sleep 0.5', { replicas: 2 }));
    const done = await waitForJob(sky.client, 'default', 'hello', phaseIs('COMPLETED', 'FAILED'), 40_000, 'COMPLETED');
    assert.equal(done.status.phase, 'COMPLETED', `status ${JSON.stringify(done.status)}\n${sky.logTail()}`);
    const counts = Object.values((done.status.replicaStatus ?? {}) as Record<string, Record<string, number>>);
    const completed = counts.reduce((s, c) => s + (c['COMPLETED'] ?? 0), 0);
    assert.equal(completed, 2, `replicaStatus ${JSON.stringify(done.status.replicaStatus)}`);

    let text = '';
    for await (const chunk of sky.client.logs('default', 'hello')) text += chunk;
    assert.match(text, /Sky says hi from replica 0 of default\/hello/);
    assert.match(text, /Sky says hi from replica 1 of default\/hello/);

    const run = await skyctl(sky.url, sky.dir, ['logs', 'hello']);
    assert.equal(run.code, 0, `skyctl logs failed: ${run.stderr}${run.stdout}`);
    assert.match(run.stdout, /Sky says hi from replica 0 of default\/hello/);
    assert.match(run.stdout, /Sky says hi from replica 1 of default\/hello/);

    const tail = await skyctl(sky.url, sky.dir, ['logs', 'hello', '--tail', '1']);
    assert.equal(tail.code, 0, `skyctl logs --tail failed: ${tail.stderr}`);
    assert.ok(tail.stdout.trim().split('\n').length <= 2, `--tail 1 printed too much: ${tail.stdout}`);
  });

  test('a failing command makes the job FAILED, not COMPLETED', async () => {
    await sky.client.create('jobs', job('broken', 'echo about to fail; exit 3'));
    const done = await waitForJob(sky.client, 'default', 'broken', phaseIs('COMPLETED', 'FAILED'), 40_000, 'finished');
    assert.equal(done.status.phase, 'FAILED', `status ${JSON.stringify(done.status)}`);
  });
});
