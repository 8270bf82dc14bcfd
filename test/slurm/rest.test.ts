/**
 * The slurm manager over slurmrestd (JWT) against a REAL Slurm: the OpenAPI
 * version is discovered from the server; outputs are read from the shared
 * workdir on this host.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createManager, type ClusterManager } from '../../src/managers/index.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';
import { collect, job, ranks, ref, states, tasksOf, waitFor } from './helpers.js';

describe('slurm manager, rest interface (slurmrestd + JWT), real Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let m: ClusterManager;
  let dir: string;

  before(async () => {
    slurm = await startSlurm({ gpus: { type: 'a100', count: 2 }, cpus: 4 });
    dir = await mkdtemp(join(tmpdir(), 'skyshift-slurm-rest-'));
    const tokenFile = join(dir, 'slurm.jwt');
    await writeFile(tokenFile, (await slurm.token('root')) + '\n', { mode: 0o600 });
    m = createManager({
      metadata: { name: 'hpc-rest' },
      spec: { manager: 'slurm', config: { interface: 'rest', url: slurm.restUrl, user: 'root', tokenFile, workdir: join(dir, 'work'), env: slurm.env } },
    });
    await m.connect();
  });
  after(async () => {
    await slurm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('status from /nodes: cpus, memory, typed GPUs', async () => {
    const s = await m.status();
    assert.equal(s.phase, 'READY', s.message);
    assert.deepEqual(s.capacity[slurm.nodeName], { cpus: 4, memory: slurm.memory, gpus: 2, A100: 2 });
  });

  it('3 replicas RUNNING then COMPLETED, idempotent, logs per replica', async () => {
    const j = job('rsim', 'echo "r$SKYSHIFT_REPLICA"; sleep 2', { replicas: 3 });
    const a = await m.submit(j, { ranks: ranks(3) });
    assert.equal(await m.submit(j, { ranks: ranks(3) }), a);
    await states(m, j, (s) => s.length === 3 && s.every((x) => x === 'RUNNING'), 'RUNNING');
    await states(m, j, (s) => s.every((x) => x === 'COMPLETED'), 'COMPLETED');
    assert.deepEqual((await collect(m.logs(ref(j), {}))).sort(), ['r0', 'r1', 'r2']);
  });

  it('GPU via gres is accounted; cancel releases it; failing command FAILED', async () => {
    const j = job('rgpu', 'sleep 30', { resources: { cpus: 1, memory: 32, A100: 2 } });
    await m.submit(j, { ranks: [0] });
    await states(m, j, (s) => s.every((x) => x === 'RUNNING'), 'RUNNING');
    await waitFor('A100 all used', async () => (await m.status()).allocatable[slurm.nodeName]?.['A100'] === 0);
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
    await waitFor('A100 free', async () => (await m.status()).allocatable[slurm.nodeName]?.['A100'] === 2);
    const bad = job('rbad', 'exit 1');
    await m.submit(bad, { ranks: [0] });
    assert.deepEqual(await states(m, bad, (s) => s.every((x) => x === 'FAILED' || x === 'COMPLETED'), 'done'), { 'rbad-0': 'FAILED' });
  });

  it('unreachable slurmrestd -> ERROR with a message', async () => {
    const broken = createManager({
      metadata: { name: 'gone' },
      spec: { manager: 'slurm', config: { interface: 'rest', url: 'http://127.0.0.1:9', tokenFile: '/nonexistent', workdir: join(dir, 'w2') } },
    });
    const s = await broken.status();
    assert.equal(s.phase, 'ERROR');
    assert.match(s.message ?? '', /gone/);
  });
});
