/**
 * Against a REAL Slurm (test/infra/slurm.ts): a task's start and finish time
 * (and exit code) reach JobTasks.details, from the files the batch script
 * writes; `logs -f` on a replica not submitted yet waits for it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createManager, type ClusterManager } from '../../src/managers/index.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';
import { collect, job, ref, states, tasksOf, waitFor } from './helpers.js';

describe('slurm manager: task times and early follows, real Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let m: ClusterManager;
  let workdir: string;

  before(async () => {
    slurm = await startSlurm({ cpus: 4, rest: false });
    workdir = await mkdtemp(join(tmpdir(), 'skyshift-slurm-times-'));
    m = createManager({ metadata: { name: 'hpc' }, spec: { manager: 'slurm', config: { interface: 'cli', env: slurm.env, workdir } } });
    await m.connect();
  });
  after(async () => {
    await slurm?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('start time while RUNNING; exit code, start and finish once done, in order and around the run', async () => {
    const before = Date.now();
    const j = job('timed', 'sleep 3; exit $(( POD_RANK == 1 ? 4 : 0 ))', { replicas: 2 });
    await m.submit(j, { ranks: [0, 1] });
    // squeue may say RUNNING a moment before the script has written its start file: wait for both, still running.
    const running = await waitFor('start times while RUNNING', async () => {
      const t = await tasksOf(m, j);
      const both = ['timed-0', 'timed-1'].every((k) => t?.tasks[k] === 'RUNNING' && t.details?.[k]?.startedAt);
      return both ? (t?.details ?? {}) : undefined;
    });
    for (const t of ['timed-0', 'timed-1']) assert.equal(running[t]?.finishedAt, undefined, `${t} has no finish time while RUNNING`);
    await states(m, j, (s) => s.every((x) => x === 'COMPLETED' || x === 'FAILED'), 'finished');
    const details = (await tasksOf(m, j))?.details ?? {};
    assert.equal(details['timed-0']?.exitCode, 0);
    assert.equal(details['timed-1']?.exitCode, 4);
    for (const t of ['timed-0', 'timed-1']) {
      const start = Date.parse(details[t]?.startedAt ?? '');
      const end = Date.parse(details[t]?.finishedAt ?? '');
      // Second precision on the Slurm side.
      assert.ok(start >= Math.floor(before / 1000) * 1000 && start <= Date.now(), `${t} start ${details[t]?.startedAt}`);
      assert.ok(end - start >= 1000 && end <= Date.now(), `${t} ran about 3 s: ${JSON.stringify(details[t])}`);
    }
  });

  it('a follow of a replica not submitted yet waits for it, then streams it to its end', async () => {
    const j = job('late', 'echo "rank $POD_RANK"; sleep 1; echo bye', { replicas: 2 });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 60_000);
    const following = collect(m.logs(ref(j), { follow: true, task: 'late-1', signal: ac.signal }));
    await sleep(1500); // nothing of the job exists on the cluster yet
    await m.submit(j, { ranks: [0, 1] });
    const lines = await following;
    clearTimeout(timer);
    assert.equal(ac.signal.aborted, false, 'the follow ended by itself, once the replica finished');
    assert.deepEqual(lines, ['rank 1', 'bye']);
  });
});
