/**
 * The scheduler and the skylets share nothing in memory (DESIGN 6): run in two
 * processes against one real `skyshift server`, each leading its own Lease,
 * the burst of e2e (h) — 200 one-cpu jobs onto two local clusters of 25 cpus —
 * still never over-commits. Everything the scheduler learns from a skylet
 * (placements evicted, replicas seen started and when, heartbeats) reaches it
 * through the API. Every replica records its start and end time; the largest
 * number running at once must never exceed 25 per cluster, and all 200
 * complete, each exactly once.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { markedRun, readMarks } from './support/marks.js';
import { SkyShiftClient, type ApiObject } from '../src/client/index.js';
import { waitFor } from './infra/ports.js';
import { startDaemon, type Daemon } from './infra/process.js';
import { REPO_ROOT, startServer, type TestServer } from './infra/server.js';
import { job, killProcessesUnder, localCluster, maxOverlap, phaseIs, waitForCluster, waitForJobs } from './infra/skyshift.js';

const N = 200;
const HARNESS = join(REPO_ROOT, 'test/support/run-controllers.ts');

describe('split controllers: scheduler and skylets in two processes', { timeout: 300_000 }, () => {
  let dir: string;
  let server: TestServer;
  let client: SkyShiftClient;
  const groups: Daemon[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyshift-split-'));
    // Local replicas run as an unprivileged user when the tests run as root: they enter (not list) dir.
    chmodSync(dir, 0o711);
    mkdirSync(join(dir, 'shared'), { recursive: true });
    chmodSync(join(dir, 'shared'), 0o777);
    server = await startServer({ dir });
    client = new SkyShiftClient({ server: server.url });
    const env = { HOME: dir, SKYSHIFT_WORK_ROOT: join(dir, 'work') };
    for (const only of ['scheduler', 'skylets']) {
      const args = ['--import', 'tsx', HARNESS, '--server', server.url, '--only', only, '--identity', `${only}-proc`, '--heartbeat-seconds', '1'];
      groups.push(startDaemon(process.execPath, args, { logFile: join(dir, `${only}.log`), env, cwd: REPO_ROOT }));
    }
    for (const name of ['h1', 'h2']) await client.create('clusters', localCluster(dir, name, 25));
    for (const name of ['h1', 'h2']) await waitForCluster(client, name);
  });

  after(async () => {
    for (const g of groups) await g.stop(10_000);
    await server?.stop();
    await killProcessesUnder(dir);
    if (!process.env['SKYSHIFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
  });

  test('each group leads its own Lease, in its own process', async () => {
    // A group may still be campaigning right after start-up: wait until both leases are held.
    const holders = await waitFor('both groups to lead', async () => {
      const leases = await client.list<ApiObject<{ holderIdentity?: string }>>('leases');
      const byName = Object.fromEntries(leases.items.map((l) => [l.metadata.name, l.spec.holderIdentity]));
      return byName['skyshift-controller-manager-scheduler'] && byName['skyshift-controller-manager-skylets'] ? byName : undefined;
    });
    assert.equal(holders['skyshift-controller-manager-scheduler'], 'scheduler-proc');
    assert.equal(holders['skyshift-controller-manager-skylets'], 'skylets-proc');
    assert.equal(holders['skyshift-controller-manager'], undefined, 'no process runs every controller');
    assert.notEqual(groups[0]?.child.pid, groups[1]?.child.pid);
  });

  test(`${N} jobs, capacity 50: max overlap <= 25 per cluster, all complete once`, async () => {
    const marks = join(dir, 'shared', 'marks');
    const run = markedRun(marks);
    const names = Array.from({ length: N }, (_, i) => `split-${i}`);
    const t0 = Date.now();
    for (let i = 0; i < N; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => client.create('jobs', job(n, run, { cpus: 1, memory: 16 }))));
    }
    const done = await waitForJobs(client, 'default', names, phaseIs('COMPLETED', 'FAILED'), 240_000, 'finished');
    const elapsed = Date.now() - t0;
    assert.deepEqual(
      done.filter((j) => j.status.phase !== 'COMPLETED').map((j) => `${j.metadata.name}: ${JSON.stringify(j.status)}`),
      [],
    );

    const { starts, ends, intervals } = readMarks(marks);
    assert.equal(starts.size, N, `replicas that started: ${starts.size}`);
    assert.deepEqual(
      [...starts].filter(([, s]) => s.length !== 1).map(([id]) => id),
      [],
      'replicas started more than once',
    );
    assert.equal(ends.size, N, `replicas that ended: ${ends.size}`);

    const per = (c: string) => maxOverlap(intervals.filter((i) => i[2] === c).map(([s, e]) => [s, e]));
    const overall = maxOverlap(intervals.map(([s, e]) => [s, e]));
    const diag = `max overlap ${overall} (h1 ${per('h1')}, h2 ${per('h2')}), ${N} jobs in ${(elapsed / 1000).toFixed(1)} s`;
    console.log(`# ${diag}`);
    assert.ok(per('h1') <= 25, `over-commit on h1: ${diag}`);
    assert.ok(per('h2') <= 25, `over-commit on h2: ${diag}`);
    assert.ok(overall >= 25, `capacity barely used: ${diag}`);
  });
});
