/**
 * The slurm manager, interface cli, over SSH to a real sshd on loopback
 * (root@127.0.0.1 with a throwaway key), driving a REAL Slurm.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createManager, type ClusterManager } from '../../src/managers/index.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';
import { startSshd, type SshdInstance } from '../infra/sshd.js';
import { collect, job, ref, states, tasksOf } from './helpers.js';

describe('slurm manager, cli over SSH, real sshd + real Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let sshd: SshdInstance;
  let m: ClusterManager;
  let workdir: string;

  before(async () => {
    [slurm, sshd] = await Promise.all([startSlurm({ cpus: 4, rest: false }), startSshd()]);
    workdir = await mkdtemp(join(tmpdir(), 'skyshift-slurm-ssh-'));
    m = createManager({
      metadata: { name: 'hpc-ssh' },
      spec: {
        manager: 'slurm',
        config: {
          interface: 'cli',
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          sshKey: sshd.keyFile,
          knownHostsFile: sshd.knownHostsFile,
          env: slurm.env,
          workdir,
        },
      },
    });
    await m.connect();
  });
  after(async () => {
    await slurm?.stop();
    await sshd?.stop();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('status, submit, follow logs, cancel over ssh', async () => {
    const s = await m.status();
    assert.equal(s.phase, 'READY', s.message);
    assert.equal(s.capacity[slurm.nodeName]?.['cpus'], 4);
    const j = job('remote', 'echo "on $(hostname) rank $SKYSHIFT_REPLICA arg=\'$1\'"; sleep 1', { replicas: 2 });
    const id = await m.submit(j, { ranks: [0, 1] });
    assert.equal(await m.submit(j, { ranks: [0, 1] }), id);
    const ac = new AbortController();
    const lines = await collect(m.logs(ref(j), { follow: true, signal: ac.signal }));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.deepEqual(await states(m, j, (x) => x.every((v) => v === 'COMPLETED'), 'COMPLETED'), { 'remote-0': 'COMPLETED', 'remote-1': 'COMPLETED' });
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
  });

  it('unreachable host -> ERROR with a message', async () => {
    const bad = createManager({
      metadata: { name: 'nohost' },
      spec: {
        manager: 'slurm',
        config: { interface: 'cli', host: '127.0.0.1', port: 9, user: 'root', sshKey: sshd.keyFile, knownHostsFile: sshd.knownHostsFile },
      },
    });
    const s = await bad.status();
    assert.equal(s.phase, 'ERROR');
    assert.match(s.message ?? '', /nohost/);
    await assert.rejects(bad.connect(), /nohost/);
  });
});
