/**
 * The slurm manager (interface cli, local commands) against a REAL Slurm
 * started by test/infra/slurm.ts: munged, slurmctld, slurmd with two declared
 * A100 GPUs (fake devices), on free loopback ports, stopped by PID in after().
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
import { collect, job, ranks, ref, states, tasksOf, waitFor } from './helpers.js';

const run = promisify(execFile);

describe('slurm manager, cli interface, real Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let m: ClusterManager;
  let workdir: string;

  before(async () => {
    slurm = await startSlurm({ gpus: { type: 'a100', count: 2 }, cpus: 4 });
    workdir = await mkdtemp(join(tmpdir(), 'skyshift-slurm-wd-'));
    m = createManager({ metadata: { name: 'hpc' }, spec: { manager: 'slurm', config: { interface: 'cli', env: slurm.env, workdir } } });
    await m.connect();
  });
  after(async () => {
    await slurm?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  const squeue = async (...args: string[]) => (await run('squeue', ['-h', ...args], { env: { ...process.env, ...slurm.env } })).stdout;

  it('status: cpus, memory and typed GPUs per node; runtime reported', async () => {
    const s = await m.status();
    assert.equal(s.phase, 'READY', s.message);
    assert.deepEqual(s.capacity[slurm.nodeName], { cpus: 4, memory: slurm.memory, gpus: 2, A100: 2 });
    assert.deepEqual(s.allocatable[slurm.nodeName], { cpus: 4, memory: slurm.memory, gpus: 2, A100: 2 });
    assert.ok(['none', 'podman', 'apptainer', 'singularity'].includes(s.runtime ?? ''), String(s.runtime));
  });

  it('3 replicas: RUNNING, then COMPLETED, with per-replica output and env', async () => {
    const j = job('sim', 'echo "hello from $SKYSHIFT_REPLICA of $SKYSHIFT_JOB rank=$POD_RANK x=$X"; sleep 3', {
      replicas: 3,
      envs: { X: "it's quoted; $(nope)" },
    });
    const id = await m.submit(j, { ranks: ranks(3) });
    assert.match(id, /^\d+$/);
    await states(m, j, (s) => s.length === 3 && s.every((x) => x === 'RUNNING'), 'all RUNNING');
    const mid = await m.status();
    assert.equal(mid.allocatable[slurm.nodeName]?.cpus, 1, 'three 1-cpu replicas hold three of four cpus');
    const done = await states(m, j, (s) => s.every((x) => x === 'COMPLETED'), 'all COMPLETED');
    assert.deepEqual(Object.keys(done).sort(), ['sim-0', 'sim-1', 'sim-2']);
    const t = await tasksOf(m, j);
    assert.deepEqual(t?.ranks, { 'sim-0': 0, 'sim-1': 1, 'sim-2': 2 });
    const lines = await collect(m.logs(ref(j), {}));
    for (const r of [0, 1, 2]) assert.ok(lines.includes(`hello from ${r} of default/sim rank=${r} x=it's quoted; $(nope)`), lines.join('\n'));
    const one = await collect(m.logs(ref(j), { task: 'sim-1', tail: 1 }));
    assert.deepEqual(one, [`hello from 1 of default/sim rank=1 x=it's quoted; $(nope)`]);
    // The Slurm job carries namespace, name and uid.
    const names = await squeue('--states=all', '-o', '%j %k');
    assert.match(names, new RegExp(`skyshift-default-sim-${j.metadata.uid?.slice(0, 8)} skyshift@hpc:${j.metadata.uid}:default/sim`));
  });

  it('submit is idempotent: same id, one Slurm job, also from a new manager (restart)', async () => {
    const j = job('idem', 'sleep 20', { replicas: 2 });
    const a = await m.submit(j, { ranks: [0, 1] });
    const b = await m.submit(j, { ranks: [0, 1] });
    const m2 = createManager({ metadata: { name: 'hpc' }, spec: { manager: 'slurm', config: { interface: 'cli', env: slurm.env, workdir } } });
    const c = await m2.submit(j, { ranks: [0, 1] });
    assert.equal(a, b);
    assert.equal(a, c);
    const lines = (await squeue('-o', '%F %k')).split('\n').filter((l) => l.includes(j.metadata.uid ?? '-'));
    assert.equal(new Set(lines.map((l) => l.split(' ')[0])).size, 1, lines.join('\n'));
    await m.cancel(ref(j));
  });

  it('GPU request via gres consumes typed GPUs in allocatable', async () => {
    const j = job('gpu', 'echo "gpus=$SLURM_JOB_GPUS/$CUDA_VISIBLE_DEVICES"; sleep 30', { resources: { cpus: 1, memory: 64, A100: 1 } });
    await m.submit(j, { ranks: [0] });
    await states(m, j, (s) => s.every((x) => x === 'RUNNING'), 'RUNNING');
    const s = await waitFor('GresUsed to show', async () => {
      const st = await m.status();
      return st.allocatable[slurm.nodeName]?.['A100'] === 1 ? st : undefined;
    });
    assert.deepEqual(s.allocatable[slurm.nodeName], { cpus: 3, memory: slurm.memory - 64, gpus: 1, A100: 1 });
    assert.equal(s.capacity[slurm.nodeName]?.['A100'], 2);
    // Cancel: tasks forgets the job, Slurm shows it cancelled, resources come back.
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
    await waitFor('GPU released', async () => (await m.status()).allocatable[slurm.nodeName]?.['A100'] === 2);
    // Slurm passes through COMPLETING on its way to CANCELLED.
    const cancelled = new RegExp(`skyshift@hpc:${j.metadata.uid}:default/gpu CANCELLED`);
    await waitFor('Slurm shows the job CANCELLED', async () => cancelled.test(await squeue('--states=all', '-o', '%k %T')), 15_000);
  });

  it('cancel of some ranks keeps the others', async () => {
    const j = job('part', 'sleep 30', { replicas: 2 });
    await m.submit(j, { ranks: [0, 1] });
    await states(m, j, (s) => s.length === 2 && s.every((x) => x === 'RUNNING'), 'RUNNING');
    await m.cancel(ref(j), [1]);
    const t = await tasksOf(m, j);
    assert.deepEqual(Object.keys(t?.tasks ?? {}), ['part-0']);
    assert.equal(t?.tasks['part-0'], 'RUNNING');
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
  });

  it('a failing command is FAILED', async () => {
    const j = job('bad', 'echo oops >&2; exit 3');
    await m.submit(j, { ranks: [0] });
    const s = await states(m, j, (x) => x.every((v) => v === 'FAILED' || v === 'COMPLETED'), 'finished');
    assert.deepEqual(s, { 'bad-0': 'FAILED' });
    assert.deepEqual(await collect(m.logs(ref(j), {})), ['oops']);
  });

  it('a job that ends between two polls is still COMPLETED, also after Slurm forgot it', async () => {
    const j = job('quick', 'echo quick');
    await m.submit(j, { ranks: [0] });
    // No poll while it runs: wait until Slurm says it is done, then ask once.
    await waitFor('squeue COMPLETED', async () =>
      (await squeue('--states=all', '-o', '%k %T')).includes(`skyshift@hpc:${j.metadata.uid}:default/quick COMPLETED`),
    );
    assert.deepEqual((await tasksOf(m, j))?.tasks, { 'quick-0': 'COMPLETED' });
    // Make slurmctld forget it (MinJobAge elapsed = purged): the exit file still answers.
    await run('scontrol', ['update', `jobid=${(await tasksOf(m, j))?.jobId}`, 'comment=forgotten'], { env: { ...process.env, ...slurm.env } }).catch(
      () => undefined,
    );
    const again = await tasksOf(m, j);
    assert.deepEqual(again?.tasks, { 'quick-0': 'COMPLETED' });
  });

  it('follows logs until the replicas finish', async () => {
    const j = job('follow', 'for i in 1 2 3; do echo line$i; sleep 0.5; done', { replicas: 2 });
    await m.submit(j, { ranks: [0, 1] });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 30_000);
    const lines = await collect(m.logs(ref(j), { follow: true, signal: ac.signal }));
    clearTimeout(timer);
    assert.equal(ac.signal.aborted, false, 'follow ended by itself');
    assert.equal(lines.filter((l) => l === 'line3').length, 2, lines.join('\n'));
  });

  it('slurmctld restart: ERROR while down, READY after, running job still tracked', async () => {
    // Long enough to outlive the restart (status() waits out Slurm's client timeouts while slurmctld is down).
    const j = job('survivor', 'echo started; sleep 60');
    await m.submit(j, { ranks: [0] });
    await states(m, j, (s) => s.every((x) => x === 'RUNNING'), 'RUNNING');
    await slurm.stopController();
    const down = await m.status();
    assert.equal(down.phase, 'ERROR');
    assert.match(down.message ?? '', /hpc.*unreachable/i);
    await assert.rejects(m.tasks());
    await slurm.startController();
    await waitFor('READY again', async () => (await m.status()).phase === 'READY');
    assert.equal((await tasksOf(m, j))?.tasks['survivor-0'], 'RUNNING');
    assert.deepEqual(await collect(m.logs(ref(j), {})), ['started']);
    await m.cancel(ref(j));
  });
});
