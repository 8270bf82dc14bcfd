/**
 * The kubernetes manager against the FAKE Kubernetes API server (in this
 * process; its fake kubelet runs each pod's command as a real local process):
 * capacity from nodes and pods, submit (idempotent), task states and exit
 * codes, logs, exec, port-forward, evictions, cancel by selector, and what an
 * idle cluster costs in requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/api/index.js';
import { KubernetesManager, capability, type JobTasks } from '../../src/managers/index.js';
import { createFakeKubeServer, writeKubeconfig, type FakeKubeServer } from '../infra/fake-kube/index.js';
import { waitFor } from '../infra/ports.js';

let uidCounter = 0;
function kubeJob(name: string, run: string, spec: Partial<Job['spec']> = {}): Job {
  uidCounter += 1;
  return {
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: `0000${uidCounter}aa-1111-4222-8333-444455556666`, labels: { app: name } },
    spec: { run, replicas: 1, resources: { cpus: 1, memory: 256 }, restartPolicy: 'Never', envs: {}, ports: [], volumes: {}, ...spec },
    status: {},
  } as unknown as Job;
}

async function tasksOf(m: KubernetesManager, uid: string): Promise<JobTasks | undefined> {
  return (await m.tasks()).find((t) => t.uid === uid);
}

describe('kubernetes manager (against the fake Kubernetes API server)', { timeout: 120_000 }, () => {
  let dir: string;
  let fake: FakeKubeServer;
  let manager: KubernetesManager;
  const count = (key: string) => fake.counts.get(key) ?? 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyshift-kube-'));
    fake = createFakeKubeServer({
      dir: join(dir, 'fake'),
      nodes: [
        { name: 'n1', cpu: '4', memory: '8Gi', gpus: { count: 2, product: 'NVIDIA-A100-SXM4-40GB' } },
        { name: 'n2', cpu: '2', memory: '4Gi' },
        { name: 'n3', cpu: '8', memory: '8Gi', unschedulable: true },
      ],
    });
    const url = await fake.listen(0);
    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, [{ name: 'onprem', server: url }]);
    manager = new KubernetesManager({ name: 'onprem', kubeconfig, probeSeconds: 1 });
    await manager.connect();
  });
  after(async () => {
    await manager?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('capacity per schedulable node, with GPUs typed by their product label', async () => {
    const s = await manager.status();
    assert.equal(s.phase, 'READY');
    assert.deepEqual(s.capacity, { n1: { cpus: 4, memory: 8192, disk: 102400, gpus: 2, A100: 2 }, n2: { cpus: 2, memory: 4096, disk: 102400 } });
    assert.match(s.message ?? '', /n3 \(cordoned\)/);
  });

  test('a job runs as labelled pods; states, exit codes and logs come back; a resubmit creates nothing', async () => {
    const job = kubeJob('hello', 'echo "Sky from $SKYSHIFT_REPLICA"; sleep 1; exit $SKYSHIFT_REPLICA', { replicas: 2 });
    const uid = job.metadata.uid as string;
    const creates = count('create pods');
    await manager.submit(job, { ranks: [0, 1] });
    assert.equal(count('create pods') - creates, 2);
    const running = await waitFor('both pods running', async () => {
      const t = await tasksOf(manager, uid);
      return t && t.tasks['hello-0'] === 'RUNNING' && t.tasks['hello-1'] === 'RUNNING' ? t : undefined;
    });
    assert.deepEqual(running.ranks, { 'hello-0': 0, 'hello-1': 1 });
    // Used capacity shows at once: 2 cpus of the nodes' 6.
    const s = await manager.status();
    const free = Object.values(s.allocatable).reduce((sum, r) => sum + (r['cpus'] ?? 0), 0);
    assert.equal(free, 4);
    await manager.submit(job, { ranks: [0, 1] });
    assert.equal(count('create pods') - creates, 2, 'resubmit found the pods in the cache');
    const done = await waitFor('both finished', async () => {
      const t = await tasksOf(manager, uid);
      return t && t.tasks['hello-0'] === 'COMPLETED' && t.tasks['hello-1'] === 'FAILED' ? t : undefined;
    });
    assert.equal(done.details?.['hello-1']?.exitCode, 1);
    assert.ok(done.details?.['hello-0']?.startedAt && done.details['hello-0'].finishedAt);
    const lines: string[] = [];
    for await (const line of manager.logs(job.metadata as never, { task: 'hello-1' })) lines.push(line);
    assert.deepEqual(lines, ['Sky from 1']);
    await manager.cancel({ uid, namespace: 'default', name: 'hello' });
    await waitFor('pods gone', async () => !(await tasksOf(manager, uid)));
  });

  test('exec in a task: output and exit code; port-forward carries bytes to the pod', async () => {
    // Listening is announced by a file, so the test does not race the server's start.
    const job = kubeJob(
      'svc',
      `exec node -e "require('net').createServer(s=>s.pipe(s)).listen(7070, process.env.POD_IP, () => require('fs').writeFileSync('listening', ''))"`,
      {
        ports: [7070],
      },
    );
    const uid = job.metadata.uid as string;
    const ref = { uid, namespace: 'default', name: 'svc' };
    await manager.submit(job, { ranks: [0] });
    await waitFor('svc running', async () => (await tasksOf(manager, uid))?.tasks['svc-0'] === 'RUNNING');
    const exec = capability(manager, 'exec', 'onprem');
    const session = await exec.exec(ref, { task: 'svc-0', command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    await session.stdin.close();
    const [out, err, code] = await Promise.all([new Response(session.stdout).text(), new Response(session.stderr).text(), session.exitCode]);
    assert.equal(out, 'out\n');
    assert.equal(err, 'err\n');
    assert.equal(code, 3);

    await waitFor('echo server listening', async () => {
      const probe = await exec.exec(ref, { task: 'svc-0', command: ['test', '-e', 'listening'] });
      await probe.stdin.close();
      return (await probe.exitCode) === 0;
    });
    const pf = capability(manager, 'portForward', 'onprem');
    const payload = Buffer.alloc(256 * 1024, 7);
    const stream = await pf.portForward(ref, { task: 'svc-0', port: 7070 });
    const writer = stream.writable.getWriter();
    const received: Buffer[] = [];
    let size = 0;
    const reader = stream.readable.getReader();
    await writer.write(payload);
    while (size < payload.length) {
      const { value, done } = await reader.read();
      if (done) break;
      received.push(Buffer.from(value));
      size += value.length;
    }
    assert.ok(Buffer.concat(received).equals(payload), `echoed ${size} of ${payload.length} bytes`);
    await writer.close().catch(() => undefined);

    // A terminal gets the client's size (not a made-up 80x24 first).
    const tty = await exec.exec(ref, { task: 'svc-0', command: ['stty', 'size'], tty: true });
    tty.resize?.(99, 22);
    await tty.stdin.close();
    assert.match(await new Response(tty.stdout).text(), /^22 99\r?\n$/);
    assert.equal(await tty.exitCode, 0);

    // Nothing listens on that port: the stream ends with the kubelet's reason instead of hanging.
    const closed = await pf.portForward(ref, { task: 'svc-0', port: 7071 });
    const w2 = closed.writable.getWriter();
    await w2.write(Buffer.from('hello')).catch(() => undefined);
    await assert.rejects(
      (async () => {
        const r = closed.readable.getReader();
        for (;;) if ((await r.read()).done) throw new Error('ended without the reason');
      })(),
      /port 7071 of task 'svc-0'/,
    );
    await manager.cancel(ref);
  });

  test('a pod deleted behind SkyShift is reported EVICTED; a cancelled one is not', async () => {
    const job = kubeJob('victim', 'sleep 30', { replicas: 2 });
    const uid = job.metadata.uid as string;
    await manager.submit(job, { ranks: [0, 1] });
    await waitFor('running', async () => (await tasksOf(manager, uid))?.tasks['victim-1'] === 'RUNNING');
    await manager.cancel({ uid, namespace: 'default', name: 'victim' }, [0]);
    const res = await fetch(`http://127.0.0.1:${(fake.server.address() as { port: number }).port}/api/v1/namespaces/default/pods/victim-${uid.slice(0, 5)}-1`, {
      method: 'DELETE',
    });
    assert.equal(res.status, 200);
    const t = await waitFor('victim-1 evicted', async () => {
      const x = await tasksOf(manager, uid);
      return x?.tasks['victim-1'] === 'EVICTED' ? x : undefined;
    });
    assert.equal(t.tasks['victim-0'], undefined, 'a rank SkyShift cancelled is not an eviction');
    await manager.cancel({ uid, namespace: 'default', name: 'victim' });
  });
});

describe('kubernetes manager informers (against the fake Kubernetes API server)', { timeout: 60_000 }, () => {
  test('a dropped watch resumes from its resourceVersion; one too old for the history relists (410 Gone)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyshift-kube-'));
    const fake = createFakeKubeServer({ dir: join(dir, 'fake'), historySize: 5, nodes: [{ name: 'n1', cpu: '64', memory: '64Gi' }] });
    const url = await fake.listen(0);
    writeKubeconfig(join(dir, 'kubeconfig'), [{ name: 'c', server: url }]);
    const manager = new KubernetesManager({ name: 'c', kubeconfig: join(dir, 'kubeconfig') });
    try {
      await manager.status();
      const lists = () => fake.counts.get('list pods') ?? 0;
      const watches = () => fake.counts.get('watch pods') ?? 0;
      assert.equal(lists(), 1);
      // A few events, then the connection drops: the watch resumes, no relist.
      const job = kubeJob('resume', 'sleep 30', { replicas: 2 });
      await manager.submit(job, { ranks: [0, 1] });
      await waitFor('2 tasks', async () => Object.keys((await tasksOf(manager, job.metadata.uid as string))?.tasks ?? {}).length === 2);
      const w = watches();
      fake.server.closeAllConnections();
      await waitFor('watch resumed', () => watches() > w);
      assert.equal(lists(), 1, 'resumed without a relist');
      // Drop it again and make more changes than the history holds before it can come back: 410, relist, nothing missed.
      fake.server.closeAllConnections();
      const big = kubeJob('burst', 'sleep 30', { replicas: 8 });
      await manager.submit(big, { ranks: [0, 1, 2, 3, 4, 5, 6, 7] });
      fake.server.closeAllConnections();
      for (let i = 0; i < 3; i++) {
        await fetch(`${url}/api/v1/namespaces/default/pods`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `other-${i}` },
            spec: { containers: [{ name: 'x', image: 'x', command: ['sleep', '30'] }] },
          }),
        });
      }
      const t = await waitFor('8 burst tasks RUNNING', async () => {
        const x = await tasksOf(manager, big.metadata.uid as string);
        return x && Object.values(x.tasks).filter((s) => s === 'RUNNING').length === 8 ? x : undefined;
      });
      assert.equal(Object.keys(t.tasks).length, 8);
      assert.equal(lists(), 2, 'the too-old resourceVersion got 410 Gone and one relist');
      const s = await manager.status();
      // 2 + 8 SkyShift pods of 1 cpu each, and 3 other pods without requests: 54 of 64 cpus free.
      assert.equal(s.allocatable['n1']?.cpus, 54);
    } finally {
      await manager.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kubernetes manager: restartPolicy Always (against the fake Kubernetes API server)', { timeout: 60_000 }, () => {
  test('a share is one Deployment (a resubmit adopts it); its pods get the share ranks; cancel deletes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyshift-kube-'));
    const fake = createFakeKubeServer({ dir: join(dir, 'fake'), nodes: [{ name: 'n1', cpu: '8', memory: '8Gi' }] });
    const url = await fake.listen(0);
    writeKubeconfig(join(dir, 'kubeconfig'), [{ name: 'c', server: url }]);
    const manager = new KubernetesManager({ name: 'c', kubeconfig: join(dir, 'kubeconfig') });
    try {
      const job = kubeJob('web', 'sleep 30', { replicas: 3, restartPolicy: 'Always' });
      const uid = job.metadata.uid as string;
      await manager.submit(job, { ranks: [1, 2] });
      await manager.submit(job, { ranks: [1, 2] });
      assert.equal(fake.counts.get('create deployments'), 2, 'the resubmit met AlreadyExists');
      const deployments = (await (await fetch(`${url}/apis/apps/v1/namespaces/default/deployments`)).json()) as { items: { metadata: { name: string } }[] };
      assert.equal(deployments.items.length, 1);
      const t = await waitFor('2 RUNNING', async () => {
        const x = await tasksOf(manager, uid);
        return x && x.tasks['web-1'] === 'RUNNING' && x.tasks['web-2'] === 'RUNNING' ? x : undefined;
      });
      assert.deepEqual(Object.keys(t.tasks).sort(), ['web-1', 'web-2']);
      await manager.cancel({ uid, namespace: 'default', name: 'web' });
      await waitFor('deployment and pods gone', async () => {
        const d = (await (await fetch(`${url}/apis/apps/v1/namespaces/default/deployments`)).json()) as { items: unknown[] };
        return d.items.length === 0 && !(await tasksOf(manager, uid));
      });
    } finally {
      await manager.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('an API server nobody answers at: status() fails at once with the client message, and again until it answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-kube-'));
  const { freePort } = await import('../infra/ports.js');
  const port = await freePort();
  writeKubeconfig(join(dir, 'kubeconfig'), [{ name: 'gone', server: `http://127.0.0.1:${port}` }]);
  const manager = new KubernetesManager({ name: 'gone', kubeconfig: join(dir, 'kubeconfig') });
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await assert.rejects(
        manager.status(),
        /cluster 'gone': cannot list nodes and pods: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/,
      );
      assert.ok(Date.now() - t0 < 2000, `failed in ${Date.now() - t0} ms`);
    }
    // Once something answers there, the informers sync and the cluster is READY.
    const fake = createFakeKubeServer({ dir: join(dir, 'fake') });
    await fake.listen(port);
    try {
      const s = await waitFor('READY', async () => manager.status().catch(() => undefined), 30_000, 200);
      assert.equal(s.phase, 'READY');
    } finally {
      await manager.close();
      await fake.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
