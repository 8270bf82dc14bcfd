/**
 * `logs -f` on a local replica that has not been started yet waits for it
 * (as the kubernetes manager waits for a Pending pod) instead of ending at
 * once; without follow, or once the follower goes away, it does not wait.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalManager } from '../src/managers/index.js';
import { testJob } from './support/jobs.js';
import { collect, killRecordedProcessGroups, ref } from './support/manager-tasks.js';

const workdirs: string[] = [];
after(async () => {
  await killRecordedProcessGroups(workdirs);
  for (const d of workdirs) await rm(d, { recursive: true, force: true });
});

async function manager(name: string): Promise<LocalManager> {
  const workdir = await mkdtemp(join(tmpdir(), 'skyshift-local-logs-'));
  workdirs.push(workdir);
  await chmod(workdir, 0o711); // replicas run as nobody when the tests run as root
  const m = new LocalManager({ name, workdir, pollMs: 50 });
  await m.connect();
  return m;
}

describe('local logs of a replica not started yet', () => {
  it('a follow waits for the replica, then streams it to its end', async () => {
    const m = await manager('early');
    const j = testJob('early', { run: 'echo "rank $POD_RANK"; sleep 0.3; echo bye', replicas: 2, resources: { cpus: 1 } });
    const started = Date.now();
    const following = collect(m.logs(ref(j), { follow: true, task: 'early-1' }));
    await sleep(600); // the follow is waiting: nothing of the job exists on the cluster yet
    await m.submit(j, { ranks: [0, 1] });
    const lines = await following;
    assert.deepEqual(lines, ['rank 1', 'bye']);
    assert.ok(Date.now() - started >= 600, 'the follow did not end before the replica existed');
  });

  it('without follow a missing replica is NotFound at once; an aborted follow ends quietly', async () => {
    const m = await manager('never');
    const j = testJob('never', { run: 'true', resources: { cpus: 1 } });
    await assert.rejects(collect(m.logs(ref(j), { task: 'never-0' })), /has no replicas on cluster 'never'|not found on cluster 'never'/);
    const controller = new AbortController();
    const following = collect(m.logs(ref(j), { follow: true, task: 'never-0', signal: controller.signal }));
    await sleep(300);
    controller.abort();
    assert.deepEqual(await following, []);
  });
});
