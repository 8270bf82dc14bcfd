import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../api/index.js';
import { testJob } from '../../../test/support/jobs.js';
import { SimManager } from '../index.js';

function job(uid: string, run: string, replicas: number, resources: Record<string, number>): Job {
  return testJob(`job-${uid}`, { run, replicas, resources }, { uid });
}

function fixture(nodes = 2) {
  let now = 1_000_000;
  const sim = new SimManager({ name: 'sim-a', nodes, nodeResources: { cpus: 4, memory: 8192 }, defaultDurationSeconds: 30, clock: () => now });
  return { sim, advance: (s: number) => (now += s * 1000) };
}

describe('SimManager', () => {
  it('reports N identical nodes with full allocatable when idle', async () => {
    const { sim } = fixture(3);
    const st = await sim.status();
    assert.equal(st.phase, 'READY');
    assert.match(st.message ?? '', /simulated/);
    assert.deepEqual(Object.keys(st.capacity), ['sim-a-node-0', 'sim-a-node-1', 'sim-a-node-2']);
    assert.deepEqual(st.allocatable['sim-a-node-1'], { cpus: 4, memory: 8192 });
  });

  it('places first-fit, runs for the sleep in the command, then completes and frees resources', async () => {
    const { sim, advance } = fixture();
    const id = await sim.submit(job('u1', 'echo hi && sleep 5', 3, { cpus: 2, memory: 1024 }), { ranks: [0, 1, 2] });
    assert.equal(id, 'sim-u1');
    let st = await sim.status();
    assert.deepEqual(st.allocatable['sim-a-node-0'], { cpus: 0, memory: 6144 });
    assert.deepEqual(st.allocatable['sim-a-node-1'], { cpus: 2, memory: 7168 });
    let [jt] = await sim.tasks();
    assert.deepEqual(jt?.tasks, { 'job-u1-0': 'RUNNING', 'job-u1-1': 'RUNNING', 'job-u1-2': 'RUNNING' });
    assert.deepEqual(jt?.ranks, { 'job-u1-0': 0, 'job-u1-1': 1, 'job-u1-2': 2 });
    advance(4.9);
    [jt] = await sim.tasks();
    assert.equal(jt?.tasks['job-u1-0'], 'RUNNING');
    advance(0.2);
    [jt] = await sim.tasks();
    assert.deepEqual(Object.values(jt?.tasks ?? {}), ['COMPLETED', 'COMPLETED', 'COMPLETED']);
    st = await sim.status();
    assert.deepEqual(st.allocatable['sim-a-node-0'], { cpus: 4, memory: 8192 });
  });

  it('uses the default duration without a sleep', async () => {
    const { sim, advance } = fixture();
    await sim.submit(job('u2', 'python train.py', 1, { cpus: 1 }), { ranks: [0] });
    advance(29);
    assert.equal((await sim.tasks())[0]?.tasks['job-u2-0'], 'RUNNING');
    advance(1);
    assert.equal((await sim.tasks())[0]?.tasks['job-u2-0'], 'COMPLETED');
  });

  it('is idempotent by uid + rank', async () => {
    const { sim } = fixture();
    const j = job('u3', 'sleep 100', 2, { cpus: 1 });
    await sim.submit(j, { ranks: [0, 1] });
    await Promise.all([sim.submit(j, { ranks: [0, 1] }), sim.submit(j, { ranks: [1] })]);
    const [jt] = await sim.tasks();
    assert.equal(Object.keys(jt?.tasks ?? {}).length, 2);
    const st = await sim.status();
    assert.equal(st.allocatable['sim-a-node-0']?.cpus, 2);
  });

  it('keeps replicas that do not fit PENDING until room frees up; cancel frees resources', async () => {
    const { sim } = fixture(1);
    await sim.submit(job('big', 'sleep 100', 1, { cpus: 4 }), { ranks: [0] });
    await sim.submit(job('next', 'sleep 100', 1, { cpus: 1 }), { ranks: [0] });
    let byName = Object.fromEntries((await sim.tasks()).map((t) => [t.name, t.tasks]));
    assert.equal(byName['job-next']?.['job-next-0'], 'PENDING');
    await sim.cancel({ uid: 'big', namespace: 'default', name: 'job-big' });
    byName = Object.fromEntries((await sim.tasks()).map((t) => [t.name, t.tasks]));
    assert.equal(byName['job-big'], undefined);
    assert.equal(byName['job-next']?.['job-next-0'], 'RUNNING');
    assert.equal((await sim.status()).allocatable['sim-a-node-0']?.cpus, 3);
  });

  it('charges PENDING replicas to allocatable (whole where they fit, else spread, never below 0)', async () => {
    const { sim } = fixture(2);
    // Fragment both nodes: 3 cpus used on each, so a 2-cpu replica fits nowhere although 2 cpus are free in total.
    await sim.submit(job('a', 'sleep 100', 2, { cpus: 3 }), { ranks: [0, 1] });
    await sim.submit(job('b', 'sleep 100', 1, { cpus: 2 }), { ranks: [0] });
    assert.equal((await sim.tasks()).find((t) => t.uid === 'b')?.tasks['job-b-0'], 'PENDING');
    const st = await sim.status();
    const total = Object.values(st.allocatable).reduce((s, n) => s + (n.cpus ?? 0), 0);
    assert.equal(total, 0, 'the queued replica is promised the last 2 cpus');
    for (const n of Object.values(st.allocatable)) assert.ok((n.cpus ?? 0) >= 0);
    // Another queued replica: nothing left to charge, clamped at 0.
    await sim.submit(job('c', 'sleep 100', 1, { cpus: 4 }), { ranks: [0] });
    for (const n of Object.values((await sim.status()).allocatable)) assert.equal(n.cpus, 0);
  });

  it('startDelaySeconds keeps replicas PENDING (and charged) for a while; pendingInAllocatable: false shows them as free', async () => {
    let now = 0;
    const lagging = (pendingInAllocatable: boolean) =>
      new SimManager({ name: 's', nodes: 1, nodeResources: { cpus: 4 }, clock: () => now, startDelaySeconds: 2, pendingInAllocatable });
    const honest = lagging(true);
    const slurmLike = lagging(false);
    for (const sim of [honest, slurmLike]) await sim.submit(job('d', 'sleep 100', 1, { cpus: 3 }), { ranks: [0] });
    assert.equal((await honest.tasks())[0]?.tasks['job-d-0'], 'PENDING');
    assert.deepEqual((await honest.status()).allocatable['s-node-0'], { cpus: 1 });
    assert.deepEqual((await slurmLike.status()).allocatable['s-node-0'], { cpus: 4 });
    now += 2000;
    for (const sim of [honest, slurmLike]) {
      assert.equal((await sim.tasks())[0]?.tasks['job-d-0'], 'RUNNING');
      assert.deepEqual((await sim.status()).allocatable['s-node-0'], { cpus: 1 });
    }
  });

  it('cancels only the given ranks', async () => {
    const { sim } = fixture();
    await sim.submit(job('u4', 'sleep 100', 3, { cpus: 1 }), { ranks: [0, 1, 2] });
    await sim.cancel({ uid: 'u4', namespace: 'default', name: 'job-u4' }, [1]);
    assert.deepEqual(Object.keys((await sim.tasks())[0]?.tasks ?? {}), ['job-u4-0', 'job-u4-2']);
  });

  it('yields a synthetic log line per task, and NotFound for unknown jobs', async () => {
    const { sim } = fixture();
    await sim.submit(job('u5', 'sleep 1', 2, { cpus: 1 }), { ranks: [0, 1] });
    const lines: string[] = [];
    for await (const l of sim.logs({ uid: 'u5', namespace: 'default', name: 'job-u5' }, { task: 'job-u5-1' })) lines.push(l);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /job-u5-1.*simulated/);
    await assert.rejects(async () => {
      for await (const _ of sim.logs({ uid: 'nope', namespace: 'default', name: 'x' }, {})) void _;
    }, /no replicas on cluster 'sim-a'/);
  });
});
