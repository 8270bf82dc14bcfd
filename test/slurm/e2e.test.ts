/**
 * The user story end to end: a REAL Slurm (test/infra/slurm.ts) and a
 * real `skyshift up` (auth on, 1 s heartbeats) whose local cluster has 1 cpu.
 * The Slurm cluster is registered with `skyctl create cluster --manager slurm
 * --slurm-conf ...`; jobs are created, listed and read with skyctl.
 *
 * Sizes: Slurm advertises 3 cpus, the local cluster 1. A 3 x 1-cpu job fits
 * whole on Slurm (the scheduler fills the cluster with most free capacity
 * first), a 4 x 1-cpu job must spill one replica onto the local cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAll, phaseIs, placementCounts, skyctl, startSkyShift, waitForCluster, waitForJob, type Obj, type SkyShiftInstance } from '../infra/skyshift.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';

const RUNTIMES = ['none', 'podman', 'apptainer', 'singularity'];

describe('slurm end to end through skyshift up and skyctl', { timeout: 240_000 }, () => {
  let slurm: SlurmInstance | undefined;
  let sky: SkyShiftInstance | undefined;
  let local = '';

  const ctl = async (args: string[], timeoutMs?: number) => {
    if (!sky) throw new Error('skyshift not started');
    return skyctl(sky.url, sky.dir, args, timeoutMs);
  };
  const ok = async (args: string[]) => {
    const r = await ctl(args);
    assert.equal(r.code, 0, `skyctl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    // No slurmrestd: this suite only drives the cli interface.
    slurm = await startSlurm({ gpus: { type: 'a100', count: 2 }, cpus: 3, rest: false });
    sky = await startSkyShift({
      args: ['--local-cpus', '1', '--local-memory', '4Gi', '--heartbeat-seconds', '1'],
      // A SLURM_CONF that does not exist in skyshift's own environment: the cluster works only if
      // `--slurm-conf` reaches the manager as config.env.SLURM_CONF (which overrides it).
      env: { SLURM_CONF: '/nonexistent/slurm.conf' },
    });
    const clusters = await listAll(sky.client, 'clusters');
    const mine = clusters.find((c) => c.metadata.labels?.['skyshift.io/local'] === 'true');
    assert.ok(mine, `no local cluster among ${JSON.stringify(clusters.map((c) => c.metadata.name))}`);
    local = mine.metadata.name;
    await waitForCluster(sky.client, local, 'READY');
  });
  after(async () => {
    // skyshift first (so nothing resubmits), then Slurm cancels what is left and stops its daemons.
    await sky?.cleanup();
    await slurm?.stop();
  });

  test('skyctl create cluster --manager slurm stores the keys the manager reads; READY with cpus, memory, typed GPUs', async () => {
    assert.ok(slurm && sky);
    const created = await ok(['create', 'cluster', 'hpc', '--manager', 'slurm', '--interface', 'cli', '--slurm-conf', slurm.conf, '--partition', 'debug']);
    assert.equal(created, 'cluster/hpc created\n');
    const obj = await sky.client.get<Obj>('clusters', 'hpc');
    assert.deepEqual(obj.spec.config, { interface: 'cli', env: { SLURM_CONF: slurm.conf }, partition: 'debug' });

    const ready = await waitForCluster(sky.client, 'hpc', 'READY', 30_000);
    assert.deepEqual(ready.status.capacity, { [slurm.nodeName]: { cpus: 3, memory: slurm.memory, gpus: 2, A100: 2 } });
    assert.ok(RUNTIMES.includes(ready.status.runtime), `status.runtime ${JSON.stringify(ready.status.runtime)}`);

    const table = await ok(['get', 'clusters']);
    const row = table.split('\n').find((l) => l.startsWith('hpc '));
    assert.ok(row, table);
    assert.match(row, /\bslurm\b/);
    assert.match(row, /\bREADY\b/);
    assert.match(row, /cpus: 3\/3/);
    assert.match(row, /A100: 2\/2/);
    assert.match(row, /gpus: 2\/2/);
    assert.match(row, /memory: /);
  });

  test('skyctl describe cluster shows the container runtime', async () => {
    const out = await ok(['describe', 'cluster', 'hpc']);
    const status = out.slice(out.indexOf('Status:'));
    assert.match(status, new RegExp(`^\\s+runtime: (${RUNTIMES.join('|')})$`, 'm'), out);
  });

  test('the other Slurm flags map to the config keys createManager reads; --config is refused for slurm', async () => {
    assert.ok(sky);
    await ok([
      'create',
      'cluster',
      'hpc-flags',
      '--manager',
      'slurm',
      '--interface',
      'rest',
      '--host',
      'login.invalid',
      '--user',
      'hpcuser',
      '--ssh-key',
      '/keys/id',
      '--ssh-port',
      '2222',
      '--known-hosts',
      '/keys/known',
      '--url',
      'http://127.0.0.1:1',
      '--token-file',
      '/keys/jwt',
      '--workdir',
      '/scratch/sky',
      '--runtime',
      'none',
    ]);
    const obj = await sky.client.get<Obj>('clusters', 'hpc-flags');
    assert.deepEqual(obj.spec.config, {
      interface: 'rest',
      host: 'login.invalid',
      user: 'hpcuser',
      sshKey: '/keys/id',
      port: 2222,
      knownHostsFile: '/keys/known',
      url: 'http://127.0.0.1:1',
      tokenFile: '/keys/jwt',
      workdir: '/scratch/sky',
      runtime: 'none',
    });
    await ok(['delete', 'cluster', 'hpc-flags']);

    const refused = await ctl(['create', 'cluster', 'hpc-bad', '--manager', 'slurm', '--config', '/etc/slurm/slurm.conf']);
    assert.equal(refused.code, 2, refused.stderr + refused.stdout);
    assert.match(refused.stderr, /--slurm-conf/);
  });

  test('skyctl create job sim: placed on Slurm, RUNNING then COMPLETED; skyctl logs holds every replica', async () => {
    assert.ok(sky && slurm);
    await ok(['create', 'job', 'sim', '--run', 'echo "replica $SKYSHIFT_REPLICA on $(hostname)"; sleep 3', '--replicas', '3', '--cpus', '1']);
    const running = await waitForJob(sky.client, 'default', 'sim', (j) => j.status?.replicaStatus?.hpc?.RUNNING === 3, 60_000, '3 RUNNING on hpc');
    assert.deepEqual(placementCounts(running), { hpc: 3 });
    const done = await waitForJob(sky.client, 'default', 'sim', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', `${JSON.stringify(done.status)}\n${sky.logTail()}`);
    assert.deepEqual(done.status.replicaStatus, { hpc: { COMPLETED: 3 } });

    const logs = await ok(['logs', 'sim']);
    for (const r of [0, 1, 2]) assert.match(logs, new RegExp(`replica ${r} on ${slurm.nodeName}`), logs);
  });

  test('a job spread across the Slurm cluster and the local cluster completes', async () => {
    assert.ok(sky);
    await ok(['create', 'job', 'spread', '--run', 'echo "spread $SKYSHIFT_REPLICA"; sleep 2', '--replicas', '4', '--cpus', '1']);
    const done = await waitForJob(sky.client, 'default', 'spread', phaseIs('COMPLETED', 'FAILED'), 90_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', `${JSON.stringify(done.status)}\n${sky.logTail()}`);
    assert.deepEqual(placementCounts(done), { hpc: 3, [local]: 1 });
    assert.deepEqual(done.status.replicaStatus, { hpc: { COMPLETED: 3 }, [local]: { COMPLETED: 1 } });
    const logs = await ok(['logs', 'spread']);
    for (const r of [0, 1, 2, 3]) assert.match(logs, new RegExp(`spread ${r}\\b`), logs);
  });

  test('slurmctld stopped: cluster ERROR with a message; started again: READY', async () => {
    assert.ok(sky && slurm);
    await slurm.stopController();
    const down = await waitForCluster(sky.client, 'hpc', 'ERROR', 90_000);
    assert.match(down.status.message ?? '', /unreachable/i);
    const table = await ok(['get', 'clusters']);
    assert.match(table.split('\n').find((l) => l.startsWith('hpc ')) ?? table, /\bERROR\b/);
    await slurm.startController();
    const up = await waitForCluster(sky.client, 'hpc', 'READY', 60_000);
    assert.equal(up.status.message, undefined);
    assert.ok(RUNTIMES.includes(up.status.runtime));
  });
});
