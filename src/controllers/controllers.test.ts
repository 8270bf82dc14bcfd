/**
 * Reconcile behaviour of the scheduler controller and skylets against a real
 * in-process API server (memory store) and SimManagers. Each SimManager is
 * wrapped in a Probe that records calls and can play dead; the sim's clock is
 * driven by the test so replicas finish on demand.
 */
import assert from 'node:assert/strict';
import { waitFor as pollFor } from '../../test/infra/ports.js';
import { type Cluster, type Job } from '../api/index.js';
import { after, before, test } from 'node:test';
import { SkyShiftClient, type ApiObject } from '../client/index.js';
import { SimManager, type ClusterManager, type JobShare, type LogOptions } from '../managers/index.js';
import { createApiServer, type ApiServer } from '../server/index.js';
import { openStore } from '../store/index.js';
import { EventRecorder } from './runtime/events.js';
import { runLeaderTerm } from './controller-manager.js';
import { systemClock } from '../lib/index.js';
import { DEFAULT_OPTIONS, silentLogger, type ControllerOptions } from './options.js';

let simNow = 0;

class Probe implements ClusterManager {
  readonly type = 'sim';
  down = false;
  readonly submits: { uid: string; ranks: number[] }[] = [];
  readonly cancels: { uid: string; ranks: number[] | undefined }[] = [];
  onSubmit: ((job: Job, share: JobShare) => Promise<void>) | undefined;
  constructor(readonly inner: SimManager) {}
  connect() {
    return this.inner.connect();
  }
  async status() {
    if (this.down) throw new Error('connection refused');
    return this.inner.status();
  }
  async submit(job: Job, share: JobShare) {
    if (this.down) throw new Error('connection refused');
    await this.onSubmit?.(job, share);
    this.submits.push({ uid: job.metadata.uid ?? '', ranks: [...share.ranks] });
    return this.inner.submit(job, share);
  }
  async tasks() {
    if (this.down) throw new Error('connection refused');
    return this.inner.tasks();
  }
  async cancel(job: { uid: string; namespace: string; name: string }, ranks?: number[]) {
    this.cancels.push({ uid: job.uid, ranks });
    return this.inner.cancel(job, ranks);
  }
  logs(job: { uid: string; namespace: string; name: string }, options: LogOptions) {
    return this.inner.logs(job, options);
  }
  async close() {}
}

let server: ApiServer;
let client: SkyShiftClient;
const probes = new Map<string, Probe>();

function probe(name: string): Probe {
  const p = probes.get(name);
  assert.ok(p, `no manager built for ${name}`);
  return p;
}

const options: ControllerOptions = {
  ...DEFAULT_OPTIONS,
  heartbeatSeconds: 0.05,
  evictionGraceSeconds: 0.3,
  statusKeepaliveSeconds: 1,
  managerFactory: (c: Cluster) => {
    let p = probes.get(c.metadata.name);
    if (!p) {
      const cfg = c.spec.config as { nodes: number; nodeResources: Record<string, number>; startDelaySeconds?: number; pendingInAllocatable?: boolean };
      const { nodes, nodeResources, startDelaySeconds, pendingInAllocatable } = cfg;
      p = new Probe(
        new SimManager({
          name: c.metadata.name,
          nodes,
          nodeResources,
          clock: () => simNow,
          ...(startDelaySeconds !== undefined ? { startDelaySeconds } : {}),
          ...(pendingInAllocatable !== undefined ? { pendingInAllocatable } : {}),
        }),
      );
      probes.set(c.metadata.name, p);
    }
    return p;
  },
};

/** Runs one leader term until the returned stop() is called. */
function startTerm(): () => Promise<void> {
  const abort = new AbortController();
  const done = runLeaderTerm(client, systemClock, silentLogger, options, abort.signal);
  return async () => {
    abort.abort();
    await done;
  };
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  return pollFor(what, fn, timeoutMs, 25);
}

async function addCluster(name: string, cpus: number): Promise<void> {
  await client.create('clusters', {
    kind: 'Cluster',
    metadata: { name },
    spec: { manager: 'sim', config: { nodes: 1, nodeResources: { cpus, memory: 8192 } } },
  });
  await waitFor(`${name} READY`, async () => (await client.get<Cluster>('clusters', name)).status.phase === 'READY');
}

async function createJob(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): Promise<Job> {
  return client.create<Job>('jobs', { kind: 'Job', metadata: { name, namespace: 'default', labels }, spec: { run: 'sleep 100', ...spec } });
}

const getJob = (name: string) => client.get<Job>('jobs', name, { namespace: 'default' });

async function events(name: string): Promise<{ reason: string; message: string; count: number }[]> {
  const list = await client.list<ApiObject<{ involvedObject: { name: string }; reason: string; message: string; count: number }>>('events', {
    namespace: 'default',
  });
  return list.items.filter((e) => e.spec.involvedObject.name === name).map((e) => ({ reason: e.spec.reason, message: e.spec.message, count: e.spec.count }));
}

async function cleanup(): Promise<void> {
  for (const j of (await client.list('jobs', { allNamespaces: true })).items) await client.delete('jobs', j.metadata.name, { namespace: j.metadata.namespace });
  for (const c of (await client.list('clusters')).items) await client.delete('clusters', c.metadata.name);
  for (const p of (await client.list('filterpolicies', { allNamespaces: true })).items)
    await client.delete('filterpolicies', p.metadata.name, { namespace: p.metadata.namespace });
  probes.clear();
}

before(async () => {
  server = createApiServer({ store: await openStore('memory:') });
  const url = await server.start({ host: '127.0.0.1', port: 0 });
  client = new SkyShiftClient({ server: url });
});
after(async () => {
  await server.close();
});

test('placements are written before anything is submitted; the job completes', async () => {
  const stop = startTerm();
  try {
    await addCluster('a', 4);
    let checked = 0;
    probe('a').onSubmit = async (job, share) => {
      const stored = await getJob(job.metadata.name);
      assert.deepEqual(stored.status.placements?.a, share.ranks, 'status carries the placement before submit');
      assert.equal(stored.status.phase, 'ACTIVE');
      checked++;
    };
    await createJob('first', { replicas: 2, resources: { cpus: 1 }, run: 'sleep 1' });
    await waitFor('RUNNING', async () => (await getJob('first')).status.replicaStatus?.a?.RUNNING === 2);
    assert.equal(checked, 1);
    simNow += 2000;
    const done = await waitFor('COMPLETED', async () => {
      const j = await getJob('first');
      return j.status.phase === 'COMPLETED' && j;
    });
    assert.deepEqual(done.status.replicaStatus, { a: { COMPLETED: 2 } });
    assert.deepEqual(done.status.taskStatus, { a: { 'first-0': 'COMPLETED', 'first-1': 'COMPLETED' } });
    const d0 = done.status.taskDetails?.a?.['first-0'];
    assert.equal(d0?.exitCode, 0);
    assert.ok(Date.parse(done.status.completionTime ?? '') > 0, 'completionTime set when the job turned COMPLETED');
    assert.equal(Date.parse(d0?.finishedAt ?? '') - Date.parse(d0?.startedAt ?? ''), 1000, 'sim: finished a `sleep 1` after start');
    const reasons = await waitFor('events', async () => {
      const r = (await events('first')).map((e) => e.reason);
      return ['Scheduled', 'Submitted', 'Started', 'Completed'].every((x) => r.includes(x)) && r;
    });
    assert.ok(reasons);
  } finally {
    await stop();
    await cleanup();
  }
});

test('a burst onto lagging clusters that do not count queued work never places more than capacity', async () => {
  // Slurm-like sims: a submitted replica stays PENDING until the test moves sim time, and PENDING
  // replicas are not subtracted from allocatable. Heartbeats after the submits keep showing the room
  // free; only the reservation ledger stands between the burst and over-commit.
  const stop = startTerm();
  const names = ['lag-a', 'lag-b', 'lag-c'];
  const capacity = 2 * 4;
  try {
    for (const name of names) {
      const config = { nodes: 2, nodeResources: { cpus: 4, memory: 8192 }, startDelaySeconds: 5, pendingInAllocatable: false };
      await client.create('clusters', { kind: 'Cluster', metadata: { name }, spec: { manager: 'sim', config } });
    }
    await waitFor(
      'clusters READY',
      async () => (await client.list<Cluster>('clusters')).items.filter((c) => c.status?.phase === 'READY').length === names.length,
    );
    const cpusOf = new Map<string, number>();
    const burst = Array.from({ length: 40 }, (_, i) => {
      const cpus = 1 + (i % 2);
      cpusOf.set(`burst-${i}`, cpus);
      return createJob(`burst-${i}`, { replicas: 1 + (i % 3 === 0 ? 1 : 0), resources: { cpus } });
    });
    await Promise.all(burst);
    let snapshots = 0;
    let maxPlaced = 0;
    const check = async () => {
      const placed = new Map<string, number>();
      for (const j of (await client.list<Job>('jobs', { namespace: 'default' })).items) {
        for (const [c, ranks] of Object.entries(j.status?.placements ?? {}))
          placed.set(c, (placed.get(c) ?? 0) + ranks.length * (cpusOf.get(j.metadata.name) ?? 0));
      }
      for (const [c, used] of placed) assert.ok(used <= capacity, `${c}: ${used}/${capacity} cpus placed at snapshot ${snapshots}`);
      snapshots++;
      maxPlaced = Math.max(
        maxPlaced,
        [...placed.values()].reduce((a, b) => a + b, 0),
      );
    };
    // Many heartbeats (every 50 ms) pass while everything placed is still queued in the sims.
    for (const end = Date.now() + 1500; Date.now() < end; await new Promise((r) => setTimeout(r, 30))) await check();
    assert.equal(maxPlaced, names.length * capacity, 'the burst fills the clusters');
    simNow += 5000; // the queued replicas start; their reservations give way to heartbeats showing them
    await waitFor('replicas RUNNING', async () => {
      await check();
      const jobs = (await client.list<Job>('jobs', { namespace: 'default' })).items;
      return jobs.some((j) => Object.values(j.status?.replicaStatus ?? {}).some((st) => (st.RUNNING ?? 0) > 0));
    });
    for (const end = Date.now() + 1000; Date.now() < end; await new Promise((r) => setTimeout(r, 30))) await check();
    assert.ok(snapshots > 20, `checked ${snapshots} snapshots`);
  } finally {
    await stop();
    await cleanup();
  }
});

test('a job that fits nowhere stays PENDING with per-cluster reasons, then runs when capacity arrives', async () => {
  const stop = startTerm();
  try {
    await addCluster('small', 2);
    await createJob('big', { replicas: 1, resources: { cpus: 4 } });
    const pending = await waitFor('PENDING', async () => {
      const j = await getJob('big');
      return j.status.phase === 'PENDING' && j;
    });
    const cond = pending.status.conditions?.find((c) => c.type === 'Scheduled');
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'Unschedulable');
    assert.match(cond?.message ?? '', /small: insufficient cpus/);
    const never = pending.status.conditions?.find((c) => c.type === 'Unschedulable');
    assert.equal(never?.reason, 'ExceedsEveryCluster');
    assert.match(never?.message ?? '', /needs cpus 4.*small: cpus 2/);
    await waitFor('FailedScheduling event', async () => (await events('big')).some((e) => e.reason === 'FailedScheduling'));
    await addCluster('large', 8);
    const placed = await waitFor('placed on large', async () => {
      const j = await getJob('big');
      return j.status.phase === 'ACTIVE' && j;
    });
    assert.deepEqual(placed.status.placements, { large: [0] });
    assert.equal(placed.status.conditions?.find((c) => c.type === 'Scheduled')?.status, 'True');
    assert.equal(
      placed.status.conditions?.find((c) => c.type === 'Unschedulable'),
      undefined,
    );
    // Re-evaluated on every heartbeat, but an Event only when the message changed (here: once before 'large' existed).
    const failed = (await events('big')).filter((e) => e.reason === 'FailedScheduling' && !e.message.includes('large:'));
    assert.deepEqual(
      failed.map((e) => e.count),
      [1],
    );
  } finally {
    await stop();
    await cleanup();
  }
});

test('a cluster ERROR past the grace period has its replicas evicted and rescheduled; on recovery its copies are cancelled', async () => {
  const stop = startTerm();
  try {
    await addCluster('x', 2);
    await addCluster('y', 2);
    const job = await createJob('moving', { replicas: 2, resources: { cpus: 1 } });
    const first = await waitFor('placed', async () => {
      const j = await getJob('moving');
      return j.status.phase === 'ACTIVE' && (j.status.replicaStatus?.x?.RUNNING === 2 || j.status.replicaStatus?.y?.RUNNING === 2) && j;
    });
    const dead = Object.keys(first.status.placements ?? {})[0] as string;
    const alive = dead === 'x' ? 'y' : 'x';
    probe(dead).down = true;
    await waitFor('ERROR', async () => (await client.get<Cluster>('clusters', dead)).status.phase === 'ERROR');
    const moved = await waitFor('moved', async () => {
      const j = await getJob('moving');
      return j.status.replicaStatus?.[alive]?.RUNNING === 2 && j;
    });
    assert.deepEqual(moved.status.placements, { [alive]: [0, 1] });
    assert.equal(moved.status.replicaStatus?.[dead]?.EVICTED, 2);
    // Events are recorded after the writes they describe: wait for it rather than expect it already there.
    await waitFor('Evicted event', async () => (await events('moving')).some((e) => e.reason === 'Evicted'));
    probe(dead).down = false;
    await waitFor('READY again', async () => (await client.get<Cluster>('clusters', dead)).status.phase === 'READY');
    await waitFor('old copies cancelled', async () => probe(dead).cancels.some((c) => c.uid === job.metadata.uid));
    assert.deepEqual(
      (await probe(dead).tasks()).filter((t) => t.uid === job.metadata.uid),
      [],
    );
    const reasons = (await events(dead)).map((e) => e.reason);
    assert.ok(reasons.includes('ClusterError') && reasons.includes('ClusterReady'), reasons.join(','));
  } finally {
    await stop();
    await cleanup();
  }
});

test('a restarted controller manager neither resubmits running replicas nor loses them', async () => {
  let stop = startTerm();
  try {
    await addCluster('r', 4);
    const job = await createJob('survivor', { replicas: 3, resources: { cpus: 1 }, run: 'sleep 5' });
    await waitFor('RUNNING', async () => (await getJob('survivor')).status.replicaStatus?.r?.RUNNING === 3);
    await stop();
    const submitsBefore = probe('r').submits.length;
    stop = startTerm();
    await new Promise((r) => setTimeout(r, 400)); // several heartbeats and syncs
    assert.equal(probe('r').submits.length, submitsBefore, 'nothing submitted again');
    assert.deepEqual(probe('r').cancels, []);
    simNow += 6000;
    await waitFor('COMPLETED', async () => (await getJob('survivor')).status.phase === 'COMPLETED');
    const ranks = probe('r')
      .submits.filter((s) => s.uid === job.metadata.uid)
      .flatMap((s) => s.ranks)
      .sort();
    assert.deepEqual(ranks, [0, 1, 2], 'each replica submitted exactly once');
  } finally {
    await stop();
    await cleanup();
  }
});

test('a new FilterPolicy evicts matching replicas from the excluded cluster; they run elsewhere', async () => {
  const stop = startTerm();
  try {
    await addCluster('p', 4);
    await addCluster('q', 2);
    await createJob('governed', { replicas: 2, resources: { cpus: 1 } }, { team: 'ml' });
    await createJob('free', { replicas: 1, resources: { cpus: 1 } });
    await waitFor('on p', async () => (await getJob('governed')).status.replicaStatus?.p?.RUNNING === 2);
    await waitFor('free on p', async () => (await getJob('free')).status.replicaStatus?.p?.RUNNING === 1);
    await client.create('filterpolicies', {
      kind: 'FilterPolicy',
      metadata: { name: 'no-p', namespace: 'default' },
      spec: { clusterFilter: { exclude: ['p'] }, labelsSelector: { team: 'ml' } },
    });
    const moved = await waitFor('moved to q', async () => {
      const j = await getJob('governed');
      return j.status.replicaStatus?.q?.RUNNING === 2 && j;
    });
    assert.deepEqual(moved.status.placements, { q: [0, 1] });
    assert.equal(moved.status.replicaStatus?.p?.EVICTED, 2);
    assert.deepEqual((await getJob('free')).status.placements, { p: [0] }, 'jobs the policy does not select stay');
    await waitFor('cancelled on p', async () => (await probe('p').tasks()).every((t) => t.uid !== moved.metadata.uid));
  } finally {
    await stop();
    await cleanup();
  }
});

test('deleting a job cancels its work', async () => {
  const stop = startTerm();
  try {
    await addCluster('d', 2);
    const job = await createJob('doomed', { replicas: 1, resources: { cpus: 1 } });
    await waitFor('RUNNING', async () => (await getJob('doomed')).status.replicaStatus?.d?.RUNNING === 1);
    await client.delete('jobs', 'doomed', { namespace: 'default' });
    await waitFor('cancelled', async () => (await probe('d').tasks()).every((t) => t.uid !== job.metadata.uid));
  } finally {
    await stop();
    await cleanup();
  }
});

test('EventRecorder bumps count for a repeated reason and message instead of creating a new Event', async () => {
  const recorder = new EventRecorder(client, systemClock, silentLogger);
  const obj = { kind: 'Job', metadata: { name: 'ev', namespace: 'default', uid: 'uid-ev' }, spec: {}, status: {} };
  recorder.record(obj, 'FailedScheduling', 'no room');
  recorder.record(obj, 'FailedScheduling', 'no room');
  recorder.record(obj, 'FailedScheduling', 'other');
  await recorder.flush();
  const evs = (await events('ev')).sort((a, b) => a.message.localeCompare(b.message));
  assert.deepEqual(evs, [
    { reason: 'FailedScheduling', message: 'no room', count: 2 },
    { reason: 'FailedScheduling', message: 'other', count: 1 },
  ]);
  // A second recorder (a restarted process) finds the existing Event by name.
  const again = new EventRecorder(client, systemClock, silentLogger);
  again.record(obj, 'FailedScheduling', 'no room');
  await again.flush();
  assert.equal((await events('ev')).find((e) => e.message === 'no room')?.count, 3);
});
