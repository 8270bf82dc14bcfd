/**
 * e2e (k): Kubernetes clusters through `skyshift up`. Two FAKE Kubernetes API
 * servers (test/infra/fake-kube, each its own process; their fake kubelets
 * run pods as real local processes) are the contexts `onprem` and `cloud` of
 * a kubeconfig; `skyshift up` registers both beside its local cluster.
 * Spreading, filter policies, GPUs by type, logs, kubectl against what
 * SkyShift created, an API server that stops answering (SIGSTOP: ERROR,
 * replicas re-placed, READY again, no rank left running twice), and a kill -9
 * of SkyShift mid-job (adopted, nothing created twice).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startFakeKube, writeKubeconfig, type FakeKube } from '../infra/fake-kube/index.js';
import { freePort, waitFor } from '../infra/ports.js';
import { ok, runSkyctl, spawnSkyctl } from '../infra/skyctl.js';
import { connect } from 'node:net';
import { job, phaseIs, placementCounts, startSkyShift, waitForCluster, waitForEvent, waitForJob, type Obj, type SkyShiftInstance } from '../infra/skyshift.js';

const run = promisify(execFile);
const ONPREM_OCTET = 61;
const CLOUD_OCTET = 62;

describe('e2e k: Kubernetes clusters from a kubeconfig', { timeout: 300_000 }, () => {
  let dir: string;
  let kubeconfig: string;
  let onprem: FakeKube;
  let cloud: FakeKube;
  let sky: SkyShiftInstance;
  const kubectl = async (context: string, args: string[]) => (await run('kubectl', ['--kubeconfig', kubeconfig, '--context', context, ...args])).stdout;
  const skyctl = (args: string[]) => runSkyctl(args, { home: sky.dir });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyshift-e2e-kube-'));
    [onprem, cloud] = await Promise.all([
      startFakeKube({
        dir: join(dir, 'onprem'),
        podIpOctet: ONPREM_OCTET,
        bookmarkIntervalMs: 1000,
        nodes: [
          { name: 'op-1', cpu: '2', memory: '4Gi', gpus: { count: 1, product: 'NVIDIA-A100-SXM4-40GB' } },
          { name: 'op-2', cpu: '2', memory: '4Gi' },
        ],
      }),
      startFakeKube({
        dir: join(dir, 'cloud'),
        podIpOctet: CLOUD_OCTET,
        bookmarkIntervalMs: 1000,
        nodes: [{ name: 'cl-1', cpu: '4', memory: '8Gi', gpus: { count: 1, product: 'Tesla-T4' } }],
      }),
    ]);
    kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, [
      { name: 'onprem', server: onprem.url },
      { name: 'cloud', server: cloud.url },
      // Nothing listens here: a context that cannot be reached.
      { name: 'Dead Context', server: `http://127.0.0.1:${await freePort()}` },
    ]);
    sky = await startSkyShift({
      args: ['--heartbeat-seconds', '1', '--eviction-grace-seconds', '3', '--local-cpus', '1'],
      env: { KUBECONFIG: kubeconfig },
    });
  });
  after(async () => {
    await sky?.cleanup();
    await Promise.all([onprem?.stop(), cloud?.stop()]);
    if (!process.env['SKYSHIFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
  });

  test('skyshift up registers every context: READY with the nodes capacity and GPU types', async () => {
    const op = await waitForCluster(sky.client, 'onprem', 'READY', 30_000);
    const cl = await waitForCluster(sky.client, 'cloud', 'READY', 30_000);
    assert.equal(op.spec.manager, 'kubernetes');
    assert.deepEqual(op.spec.config, { context: 'onprem', kubeconfig });
    assert.equal(op.status.capacity['op-1'].A100, 1);
    assert.equal(op.status.capacity['op-2'].cpus, 2);
    assert.equal(cl.status.capacity['cl-1'].T4, 1);
    // The unreachable one is there too, in ERROR with the client's message; its raw context name is kept for display.
    const dead = await waitForCluster(sky.client, 'dead-context', 'ERROR', 30_000);
    assert.match(String(dead.status.message), /cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    assert.equal(dead.spec.config.context, 'Dead Context');
    const table = ok(await skyctl(['get', 'clusters'])).stdout;
    assert.match(table, /^onprem\s+kubernetes\s.*READY/m);
    assert.match(table, /^cloud\s+kubernetes\s.*READY/m);
    // Labels to steer the later tests.
    for (const [name, site] of [
      ['onprem', 'onprem'],
      ['cloud', 'cloud'],
    ] as const)
      await sky.client.patch('clusters', name, { metadata: { labels: { site } } });
  });

  test('a job spreads over both clusters, a FilterPolicy keeps it off the local one; logs and kubectl see the pods', async () => {
    await sky.client.create('filterpolicies', {
      kind: 'FilterPolicy',
      metadata: { name: 'kube-only', namespace: 'default' },
      spec: { clusterFilter: { include: ['onprem', 'cloud'] }, labelsSelector: { app: 'nginx' } },
    });
    await sky.client.create('jobs', job('hello', 'echo Sky from $SKYSHIFT_REPLICA; sleep 3', { replicas: 6, labels: { app: 'nginx' } }));
    const running = await waitForJob(sky.client, 'default', 'hello', (j) => Object.keys(placementCounts(j)).length > 0, 30_000, 'placed');
    const placed = placementCounts(running);
    assert.deepEqual(Object.keys(placed).sort(), ['cloud', 'onprem'], JSON.stringify(placed));
    assert.equal((placed.cloud ?? 0) + (placed.onprem ?? 0), 6);
    const pods = (await kubectl('onprem', ['get', 'pods', '-l', 'skyshift.io/job=hello', '-o', 'name'])).trim().split('\n').filter(Boolean);
    assert.equal(pods.length, placed.onprem, pods.join(' '));
    const labels = JSON.parse(await kubectl('cloud', ['get', 'pods', '-l', 'skyshift.io/job=hello', '-o', 'json'])) as { items: Obj[] };
    assert.equal(labels.items.length, placed.cloud);
    assert.equal(labels.items[0]?.metadata.labels?.app, 'nginx');
    const done = await waitForJob(sky.client, 'default', 'hello', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    const logs = ok(await skyctl(['logs', 'hello'])).stdout;
    for (let r = 0; r < 6; r++) assert.match(logs, new RegExp(`^\\[hello-${r}\\] Sky from ${r}$`, 'm'), logs);
  });

  test('GPUs by type: A100 lands on onprem, T4 on cloud', async () => {
    const gpuJob = (name: string, type: string) => {
      const j = job(name, 'true');
      j.spec.resources = { cpus: 0.5, memory: 64, [type]: 1 };
      return j;
    };
    await sky.client.create('jobs', gpuJob('need-a100', 'A100'));
    await sky.client.create('jobs', gpuJob('need-t4', 'T4'));
    const a = await waitForJob(sky.client, 'default', 'need-a100', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    const t = await waitForJob(sky.client, 'default', 'need-t4', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.deepEqual(placementCounts(a), { onprem: 1 });
    assert.deepEqual(placementCounts(t), { cloud: 1 });
    assert.equal(a.status.phase, 'COMPLETED');
    const pod = JSON.parse(await kubectl('onprem', ['get', 'pods', '-l', 'skyshift.io/job=need-a100', '-o', 'json'])) as { items: Obj[] };
    assert.equal(pod.items[0]?.spec.nodeName, 'op-1', 'the pod went to the A100 node');
  });

  test('an API server that stops answering: ERROR, replicas re-placed, READY again, the old pods deleted', async () => {
    const marks = join(sky.shared, 'victim-marks');
    const hold = join(sky.shared, 'victim-hold');
    writeFileSync(hold, '');
    const cmd = `echo "start $SKYSHIFT_REPLICA $POD_IP" >> ${marks}; while [ -e ${hold} ]; do sleep 0.2; done; echo "end $SKYSHIFT_REPLICA $POD_IP" >> ${marks}`;
    await sky.client.create(
      'jobs',
      job('victim', cmd, {
        replicas: 2,
        placement: {
          filters: [{ name: 'kube', matchExpressions: [{ key: 'site', operator: 'Exists' }] }],
          preferences: [{ name: 'p', matchLabels: { site: 'onprem' }, weight: 100 }],
        },
      }),
    );
    await waitForJob(sky.client, 'default', 'victim', (j) => (j.status?.replicaStatus?.onprem?.RUNNING ?? 0) === 2, 30_000, '2 RUNNING on onprem');
    // A silent API server is probed after probeSeconds: make that quick for the test.
    await sky.client.patch('clusters', 'onprem', { spec: { config: { probeSeconds: 1 } } });
    await waitForCluster(sky.client, 'onprem', 'READY', 20_000);
    onprem.pause();
    try {
      const errored = await waitForCluster(sky.client, 'onprem', 'ERROR', 40_000);
      assert.match(String(errored.status.message), /onprem/);
      await waitForJob(sky.client, 'default', 'victim', (j) => (j.status?.replicaStatus?.cloud?.RUNNING ?? 0) === 2, 40_000, '2 RUNNING on cloud');
      await waitForEvent(sky.client, 'default', 'victim', 'Evicted');
    } finally {
      onprem.resume();
    }
    await waitForCluster(sky.client, 'onprem', 'READY', 30_000);
    // Back: onprem's copies of the re-placed ranks are deleted before anything lets them finish.
    await waitFor(
      'victim pods gone from onprem',
      async () => (await kubectl('onprem', ['get', 'pods', '-l', 'skyshift.io/job=victim', '-o', 'name'])).trim() === '',
      30_000,
      250,
    );
    rmSync(hold);
    const done = await waitForJob(sky.client, 'default', 'victim', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    const ends = readFileSync(marks, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('end '));
    assert.deepEqual(ends.map((l) => l.split(' ')[1]).sort(), ['0', '1'], `each rank ends once: ${ends.join(' | ')}`);
    for (const l of ends) assert.match(l, new RegExp(` 127\\.${CLOUD_OCTET}\\.`), `ended on cloud: ${l}`);
  });

  test('kill -9 of SkyShift mid-job: the pods are adopted, nothing is created twice', async () => {
    const before = (await cloud.requests())['create pods'] ?? 0;
    const marks = join(sky.shared, 'adopt-marks');
    await sky.client.create(
      'jobs',
      job('adopt', `echo "start $SKYSHIFT_REPLICA" >> ${marks}; sleep 4`, {
        replicas: 3,
        placement: { filters: [{ name: 'c', matchLabels: { site: 'cloud' } }] },
      }),
    );
    await waitForJob(sky.client, 'default', 'adopt', (j) => (j.status?.replicaStatus?.cloud?.RUNNING ?? 0) === 3, 30_000, '3 RUNNING');
    await sky.kill9();
    await sky.restart();
    const done = await waitForJob(sky.client, 'default', 'adopt', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.equal(((await cloud.requests())['create pods'] ?? 0) - before, 3, 'three pods created in all');
    assert.equal(readFileSync(marks, 'utf8').trim().split('\n').length, 3);
    assert.ok(existsSync(kubeconfig));
  });
  test('skyctl exec and port-forward reach a pod through SkyShift (no kubeconfig on the user side)', async () => {
    const server = `exec node -e "require('net').createServer(s=>s.pipe(s)).listen(8080, process.env.POD_IP, () => require('fs').writeFileSync('listening', ''))"`;
    const shell = job('shell', server, { replicas: 2, placement: { filters: [{ name: 'c', matchLabels: { site: 'cloud' } }] } });
    shell.spec.ports = [8080];
    await sky.client.create('jobs', shell);
    await waitForJob(sky.client, 'default', 'shell', (j) => (j.status?.replicaStatus?.cloud?.RUNNING ?? 0) === 2, 30_000, '2 RUNNING');
    const ex = await skyctl(['exec', 'shell', '--task', 'shell-1', '--', 'sh', '-c', 'echo $SKYSHIFT_TASK; echo oops >&2; exit 4']);
    assert.equal(ex.code, 4, ex.stderr);
    assert.equal(ex.stdout, 'shell-1\n');
    assert.match(ex.stderr, /oops/);
    await waitFor(
      'echo server listening',
      async () => (await skyctl(['exec', 'shell', '--task', 'shell-0', '--', 'test', '-e', 'listening'])).code === 0,
      20_000,
      200,
    );
    const local = await freePort();
    const pf = spawnSkyctl(['port-forward', 'shell', `${local}:8080`, '--task', 'shell-0'], { home: sky.dir });
    try {
      let out = '';
      pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('Forwarding from', () => out.includes('Forwarding from'), 20_000);
      const payload = Buffer.alloc(1 << 20, 'k');
      // Request/response as an HTTP client does: write, read the whole answer, then close.
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const sock = connect(local, '127.0.0.1', () => sock.write(payload));
        const chunks: Buffer[] = [];
        let size = 0;
        sock.on('data', (d: Buffer) => {
          chunks.push(d);
          size += d.length;
          if (size >= payload.length) {
            sock.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        sock.on('end', () => resolve(Buffer.concat(chunks)));
        sock.on('error', reject);
      });
      assert.equal(echoed.length, payload.length);
      assert.ok(echoed.equals(payload));
    } finally {
      pf.kill('SIGINT');
    }
    await sky.client.delete('jobs', 'shell', { namespace: 'default' });
  });
});
