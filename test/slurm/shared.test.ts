/**
 * Two SkyShift clusters registered on ONE real Slurm (test/infra/slurm.ts),
 * built from Cluster objects as the controllers build them (name + uid): each
 * sees and cancels only its own Slurm jobs, also for one SkyShift job with
 * replicas on both, and neither touches a job submitted outside SkyShift.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createManager, type ClusterManager } from '../../src/managers/index.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';
import { job, ref, states, tasksOf, waitFor } from './helpers.js';

const run = promisify(execFile);

describe('two SkyShift clusters on one Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let a: ClusterManager;
  let b: ClusterManager;
  const dirs: string[] = [];

  const cluster = async (name: string, uid: string, workdir?: string) => {
    if (!workdir) dirs.push((workdir = await mkdtemp(join(tmpdir(), `skyshift-slurm-${name}-`))));
    const m = createManager({ metadata: { name, uid }, spec: { manager: 'slurm', config: { interface: 'cli', env: slurm.env, workdir } } });
    await m.connect();
    return m;
  };
  const slurmCmd = async (cmd: string, ...args: string[]) => (await run(cmd, args, { env: { ...process.env, ...slurm.env } })).stdout;
  /** Slurm's own view: array job id -> state of each still-listed task, by comment. */
  const slurmState = async (id: string) =>
    (await slurmCmd('squeue', '-h', '-r', '--states=all', '-o', '%F %T'))
      .split('\n')
      .filter((l) => l.split(' ')[0] === id)
      .map((l) => l.split(' ')[1]);

  before(async () => {
    slurm = await startSlurm({ cpus: 8, rest: false });
    a = await cluster('hpc-a', '0a0a0a0a-1111-4000-8000-000000000001');
    b = await cluster('hpc-b', '0b0b0b0b-2222-4000-8000-000000000002');
  });
  after(async () => {
    await slurm?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('each lists only its own jobs; cancelling everything on one leaves the other and foreign jobs running', async () => {
    const ja = job('on-a', 'sleep 120');
    const jb = job('on-b', 'sleep 120');
    // One SkyShift job split across both clusters: rank 0 on a, rank 1 on b (same uid on both).
    const split = job('split', 'sleep 120', { replicas: 2 });
    const idA = await a.submit(ja, { ranks: [0] });
    const idB = await b.submit(jb, { ranks: [0] });
    const splitA = await a.submit(split, { ranks: [0] });
    const splitB = await b.submit(split, { ranks: [1] });
    assert.notEqual(splitA, splitB, "each cluster submits its own share: b did not adopt a's Slurm job of the same uid");
    const foreign = (
      await slurmCmd(
        'sbatch',
        '--parsable',
        '--job-name=user-job',
        '--mem=64M',
        '--comment=skyshift:not-yours:default/x',
        '--wrap',
        'sleep 120',
        '--chdir',
        dirs[0] ?? '/tmp',
      )
    ).trim();

    await states(a, ja, (s) => s.every((x) => x === 'RUNNING'), 'a RUNNING');
    await states(b, jb, (s) => s.every((x) => x === 'RUNNING'), 'b RUNNING');
    await states(b, split, (s) => s.every((x) => x === 'RUNNING'), 'split rank 1 RUNNING on b');

    const listA = await a.tasks();
    const listB = await b.tasks();
    assert.deepEqual(listA.map((t) => t.name).sort(), ['on-a', 'split']);
    assert.deepEqual(listB.map((t) => t.name).sort(), ['on-b', 'split']);
    assert.deepEqual(listA.find((t) => t.name === 'split')?.ranks, { 'split-0': 0 });
    assert.deepEqual(listB.find((t) => t.name === 'split')?.ranks, { 'split-1': 1 });

    // What a deleted cluster's skylet does (cancelAll), plus a cancel of b's job by uid through a.
    for (const jt of listA) await a.cancel({ uid: jt.uid, namespace: jt.namespace, name: jt.name });
    await a.cancel(ref(jb));
    assert.deepEqual(await a.tasks(), []);

    await waitFor("a's jobs CANCELLED in Slurm", async () => {
      const s = [...(await slurmState(idA)), ...(await slurmState(splitA))];
      return s.length === 0 || s.every((x) => x === 'CANCELLED');
    });
    // b's jobs and the user's job are untouched.
    assert.deepEqual(await slurmState(idB), ['RUNNING']);
    assert.deepEqual(await slurmState(splitB), ['RUNNING']);
    assert.deepEqual(await slurmState(foreign), ['RUNNING']);
    assert.deepEqual((await tasksOf(b, jb))?.tasks, { 'on-b-0': 'RUNNING' });
    assert.deepEqual((await tasksOf(b, split))?.tasks, { 'split-1': 'RUNNING' });

    // A manager rebuilt for a (restart) still does not claim b's or the user's jobs.
    const a2 = await cluster('hpc-a', '0a0a0a0a-1111-4000-8000-000000000001', dirs[0]);
    assert.deepEqual(await a2.tasks(), []);
    await b.cancel(ref(jb));
    await b.cancel(ref(split));
    assert.deepEqual(await b.tasks(), []);
    await slurmCmd('scancel', foreign);
  });
});
