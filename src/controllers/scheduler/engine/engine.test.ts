import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Scheduler, commitPlacement, schedule, type Decision, type PlacedDecision } from './engine.js';
import { Reservations } from './reservations.js';
import type { SchedCluster, SchedFilterPolicy, SchedJob } from './types.js';

const cluster = (name: string, nodes: Record<string, Record<string, number>>, labels: Record<string, string> = {}, phase = 'READY'): SchedCluster => ({
  name,
  phase,
  labels,
  allocatable: nodes,
});
const job = (over: Partial<SchedJob> = {}): SchedJob => ({
  namespace: 'default',
  name: 'j',
  uid: 'uid-j',
  replicas: 1,
  resources: { cpus: 1 },
  ...over,
});
const placed = (d: Decision): PlacedDecision => {
  assert.equal(d.kind, 'placed', d.kind === 'pending' ? d.message : '');
  return d as PlacedDecision;
};
const pending = (d: Decision) => {
  assert.equal(d.kind, 'pending');
  if (d.kind !== 'pending') throw new Error('unreachable');
  return d;
};

const dev = cluster('dev', { n1: { cpus: 4, memory: 8192 } }, { env: 'dev' });
const staging = cluster('staging', { n1: { cpus: 4, memory: 8192 } }, { env: 'staging' });

describe('eligibility', () => {
  it('places only on READY clusters and says why the others were skipped', () => {
    const down = { ...cluster('a-down', { n1: { cpus: 64 } }, {}, 'ERROR'), message: 'kubeconfig missing' };
    const d = placed(schedule({ clusters: [down, dev], job: job(), reservations: new Reservations() }));
    assert.deepEqual(d.placed, { dev: [0] });
    const p = pending(schedule({ clusters: [down], job: job(), reservations: new Reservations() }));
    assert.equal(p.reasons['a-down'], 'not READY (ERROR: kubeconfig missing)');
    const init = pending(schedule({ clusters: [cluster('x', { n: { cpus: 9 } }, {}, 'INIT')], job: job(), reservations: new Reservations() }));
    assert.equal(init.reasons['x'], 'not READY (INIT)');
  });

  it('FilterPolicy: include restricts, exclude forbids, selector scopes, other namespaces ignored', () => {
    const clusters = [dev, staging];
    const onlyStaging: SchedFilterPolicy = { namespace: 'default', name: 'only-staging', clusterFilter: { include: ['staging'] } };
    let d = placed(schedule({ clusters, policies: [onlyStaging], job: job(), reservations: new Reservations() }));
    assert.deepEqual(Object.keys(d.placed), ['staging']);

    const noStaging: SchedFilterPolicy = { namespace: 'default', name: 'no-staging', clusterFilter: { exclude: ['staging'] } };
    const p = pending(schedule({ clusters, policies: [onlyStaging, noStaging], job: job(), reservations: new Reservations() }));
    assert.equal(p.reasons['staging'], 'excluded by FilterPolicy no-staging');
    assert.equal(p.reasons['dev'], 'not included by FilterPolicy only-staging');

    // Selector not contained in the job's labels: policy does not apply.
    const scoped: SchedFilterPolicy = { ...noStaging, name: 'scoped', labelsSelector: { team: 'ml' }, clusterFilter: { exclude: ['dev', 'staging'] } };
    d = placed(schedule({ clusters, policies: [scoped], job: job(), reservations: new Reservations() }));
    assert.ok(d.placed['dev']);
    pending(schedule({ clusters, policies: [scoped], job: job({ labels: { team: 'ml', x: 'y' } }), reservations: new Reservations() }));

    const otherNs: SchedFilterPolicy = { ...noStaging, namespace: 'other', clusterFilter: { exclude: ['dev', 'staging'] } };
    placed(schedule({ clusters, policies: [otherNs], job: job(), reservations: new Reservations() }));
  });

  it('placement filters: In / NotIn / Exists / DoesNotExist (reference dev/staging scenario)', () => {
    const clusters = [dev, staging];
    const run = (filters: NonNullable<SchedJob['placement']>['filters']) =>
      schedule({ clusters, job: job({ placement: { filters } }), reservations: new Reservations() });
    assert.deepEqual(Object.keys(placed(run([{ name: 'f', matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }])).placed), ['dev']);
    assert.deepEqual(Object.keys(placed(run([{ name: 'f', matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }])).placed), ['staging']);
    assert.deepEqual(Object.keys(placed(run([{ name: 'f', matchLabels: { env: 'staging' } }])).placed), ['staging']);
    const withGpu = cluster('z-gpu', { n: { cpus: 100 } }, { gpu: 'yes' });
    const d = schedule({
      clusters: [...clusters, withGpu],
      job: job({ placement: { filters: [{ name: 'f', matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }] } }),
      reservations: new Reservations(),
    });
    assert.deepEqual(Object.keys(placed(d).placed), ['z-gpu']);
    const d2 = schedule({
      clusters: [withGpu],
      job: job({ placement: { filters: [{ name: 'no-gpu', matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }] } }),
      reservations: new Reservations(),
    });
    assert.equal(pending(d2).reasons['z-gpu'], 'does not match placement filters (no-gpu)');
    // All terms within one filter must hold; any one filter suffices.
    const both = run([{ name: 'f', matchLabels: { env: 'dev' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }]);
    assert.equal(both.kind, 'pending');
    const either = run([
      { name: 'a', matchLabels: { env: 'nope' } },
      { name: 'b', matchLabels: { env: 'staging' } },
    ]);
    assert.deepEqual(Object.keys(placed(either).placed), ['staging']);
  });
});

describe('score', () => {
  it('preference weight decides between equal clusters, both ways', () => {
    const prefs = (devW: number, stagingW: number) => ({
      preferences: [
        { name: 'd', matchLabels: { env: 'dev' }, weight: devW },
        { name: 's', matchLabels: { env: 'staging' }, weight: stagingW },
      ],
    });
    assert.deepEqual(
      Object.keys(placed(schedule({ clusters: [dev, staging], job: job({ placement: prefs(10, 100) }), reservations: new Reservations() })).placed),
      ['staging'],
    );
    assert.deepEqual(
      Object.keys(placed(schedule({ clusters: [dev, staging], job: job({ placement: prefs(100, 10) }), reservations: new Reservations() })).placed),
      ['dev'],
    );
  });

  it('unmatched clusters stay eligible but rank after preferred ones', () => {
    const other = cluster('a-other', { n: { cpus: 64 } });
    const d = placed(
      schedule({
        clusters: [other, dev],
        job: job({ placement: { preferences: [{ name: 'p', matchLabels: { env: 'dev' }, weight: 1 }] } }),
        reservations: new Reservations(),
      }),
    );
    assert.deepEqual(d.ranking, ['dev', 'a-other']);
    const full = cluster('dev', { n: { cpus: 0.5 } }, { env: 'dev' });
    const d2 = placed(
      schedule({
        clusters: [other, full],
        job: job({ placement: { preferences: [{ name: 'p', matchLabels: { env: 'dev' }, weight: 1 }] } }),
        reservations: new Reservations(),
      }),
    );
    assert.deepEqual(d2.placed, { 'a-other': [0] });
  });

  it('more free capacity wins; equal scores break ties by name whatever the input order', () => {
    const small = cluster('a', { n: { cpus: 2 } });
    const big = cluster('b', { n: { cpus: 8 } });
    assert.deepEqual(placed(schedule({ clusters: [small, big], job: job(), reservations: new Reservations() })).placed, { b: [0] });
    const c1 = cluster('c1', { n: { cpus: 4 } });
    const c2 = cluster('c2', { n: { cpus: 4 } });
    for (const order of [
      [c1, c2],
      [c2, c1],
    ]) {
      assert.deepEqual(placed(schedule({ clusters: order, job: job(), reservations: new Reservations() })).placed, { c1: [0] });
    }
  });
});

describe('fit and spread', () => {
  it('spreads 4×1-cpu replicas 2+2 over two 2-cpu clusters, filling the best first', () => {
    const clusters = [cluster('b', { n1: { cpus: 2 } }), cluster('a', { n1: { cpus: 2 } })];
    const d = placed(schedule({ clusters, job: job({ replicas: 4 }), reservations: new Reservations() }));
    assert.deepEqual(d.placed, { a: [0, 1], b: [2, 3] });
    assert.deepEqual(
      d.reservations.map((r) => `${r.cluster}/${r.node}#${r.rank}`),
      ['a/n1#0', 'a/n1#1', 'b/n1#2', 'b/n1#3'],
    );
  });

  it('reference README: 2×1-cpu over two 1.83-cpu clusters goes one each', () => {
    const c = (n: string) => cluster(n, { node: { cpus: 1.83, memory: 6035.6 } });
    const d = placed(
      schedule({ clusters: [c('cluster1'), c('cluster2')], job: job({ replicas: 2, resources: { cpus: 1, memory: 128 } }), reservations: new Reservations() }),
    );
    assert.deepEqual(d.placed, { cluster1: [0], cluster2: [1] });
  });

  it('whole job or nothing: 5 replicas on 4 slots leave everything unreserved', () => {
    const clusters = [cluster('a', { n1: { cpus: 2 } }), cluster('b', { n1: { cpus: 2 } })];
    const ledger = new Reservations();
    const p = pending(schedule({ clusters, job: job({ replicas: 5 }), reservations: ledger }));
    assert.equal(ledger.size, 0);
    assert.equal(p.message, '0/2 clusters can run 5 replicas: a: fits only 2 of 5 replicas; b: fits only 2 of 5 replicas');
  });

  it('a replica must fit on one node, not across nodes', () => {
    const c = cluster('a', { n1: { cpus: 2, memory: 100 }, n2: { cpus: 1, memory: 1000 } });
    const p = pending(schedule({ clusters: [c], job: job({ resources: { cpus: 2, memory: 500 } }), reservations: new Reservations() }));
    assert.equal(p.reasons['a'], 'no single node fits one replica (needs cpus 2, memory 500)');
    const d = placed(schedule({ clusters: [c], job: job({ replicas: 3, resources: { cpus: 1, memory: 50 } }), reservations: new Reservations() }));
    assert.deepEqual(
      d.reservations.map((r) => r.node),
      ['n1', 'n1', 'n2'],
    );
  });

  it('pending message lists every cluster with its reason', () => {
    const policies: SchedFilterPolicy[] = [{ namespace: 'default', name: 'no-cloud', clusterFilter: { exclude: ['gpu-b'] } }];
    const clusters = [cluster('gpu-a', { n1: { cpus: 2 }, n2: { cpus: 1 } }), cluster('gpu-b', { n1: { cpus: 64 } })];
    const p = pending(schedule({ clusters, policies, job: job({ replicas: 4, resources: { cpus: 4 } }), reservations: new Reservations() }));
    assert.equal(p.message, '0/2 clusters can run 4 replicas: gpu-a: insufficient cpus (need 4, largest free 2); gpu-b: excluded by FilterPolicy no-cloud');
    assert.equal(
      pending(schedule({ clusters: [], job: job(), reservations: new Reservations() })).message,
      '0/0 clusters can run 1 replica: no clusters registered',
    );
  });

  it('typed GPUs: A100 needs A100 and also uses up gpus; untyped gpus takes any type', () => {
    const c = cluster('g', { n1: { cpus: 32, gpus: 4, A100: 4 } });
    const t4 = cluster('t', { n1: { cpus: 32, gpus: 4, T4: 4 } });
    const ledger = new Reservations();
    const a = placed(schedule({ clusters: [c, t4], job: job({ uid: 'a', resources: { cpus: 1, A100: 2 } }), reservations: ledger }));
    assert.deepEqual(a.placed, { g: [0] });
    assert.deepEqual(a.reservations[0]?.resources, { cpus: 1, A100: 2, gpus: 2 });
    commitPlacement(ledger, a);
    // 2 gpus left on g: an untyped request for 3 must go to t (which it may: gpus = any type).
    const b = placed(schedule({ clusters: [c, t4], job: job({ uid: 'b', resources: { gpus: 3 } }), reservations: ledger }));
    assert.deepEqual(b.placed, { t: [0] });
    commitPlacement(ledger, b);
    // g has 2 gpus (A100) left, t has 1: untyped gpus:2 fits only g, and takes from the gpus total,
    // which then blocks a typed A100 request even though the A100 key itself was not decremented.
    const c2 = placed(schedule({ clusters: [c, t4], job: job({ uid: 'c', resources: { gpus: 2 } }), reservations: ledger }));
    assert.deepEqual(c2.placed, { g: [0] });
    commitPlacement(ledger, c2);
    const d = pending(schedule({ clusters: [c, t4], job: job({ uid: 'd', resources: { A100: 1 } }), reservations: ledger }));
    assert.equal(d.reasons['g'], 'insufficient gpus (need 1, largest free 0)');
    assert.equal(d.reasons['t'], 'insufficient A100 (need 1, largest free 0)');
    // Nodes reporting only typed keys still count as having gpus.
    placed(schedule({ clusters: [cluster('h', { n: { V100: 2 } })], job: job({ resources: { gpus: 2 } }), reservations: new Reservations() }));
  });

  it('a burst of jobs never over-commits: reservations hold capacity until heartbeats show it', () => {
    const clusters = [cluster('a', { n1: { cpus: 4, memory: 4096 }, n2: { cpus: 4, memory: 4096 } }), cluster('b', { n1: { cpus: 3, memory: 4096 } })];
    const ledger = new Reservations();
    const s = new Scheduler();
    let placedCount = 0;
    for (let i = 0; i < 20; i++) {
      const d = s.schedule({ clusters, job: job({ uid: `u${i}`, name: `j${i}`, resources: { cpus: 1, memory: 512 } }), reservations: ledger });
      if (d.kind === 'placed') {
        commitPlacement(ledger, d);
        placedCount++;
      }
    }
    assert.equal(placedCount, 11);
    for (const c of clusters) {
      for (const [node, alloc] of Object.entries(c.allocatable)) {
        const used = ledger.freeOn(c.name, node);
        assert.ok((used['cpus'] ?? 0) <= (alloc['cpus'] ?? 0), `${c.name}/${node} over-committed`);
      }
    }
    // A heartbeat after the submit proves nothing (the manager may queue the work); one after job sync saw
    // the replicas running reflects a's jobs: reservations there are dropped, not counted twice.
    for (const r of ledger.list()) ledger.markSeen(r.jobUid, r.cluster, r.rank, 900);
    assert.equal(ledger.confirmHeartbeat('a', 2000), 0);
    for (const r of ledger.list()) ledger.markStarted(r.jobUid, r.cluster, r.rank, 1000);
    assert.equal(ledger.confirmHeartbeat('a', 999), 0);
    assert.equal(ledger.confirmHeartbeat('a', 1000), 0, 'same millisecond: the snapshot may predate the start');
    assert.equal(ledger.confirmHeartbeat('a', 1001), 8);
    const after = [cluster('a', { n1: { cpus: 0, memory: 2048 }, n2: { cpus: 1, memory: 2048 } }), clusters[1]!];
    const d = placed(s.schedule({ clusters: after, job: job({ uid: 'late' }), reservations: ledger }));
    assert.deepEqual(
      d.reservations.map((r) => `${r.cluster}/${r.node}`),
      ['a/n2'],
    );
  });

  it('reschedules only the given ranks (EVICTED replicas)', () => {
    const d = placed(schedule({ clusters: [cluster('a', { n: { cpus: 8 } })], job: job({ replicas: 4 }), ranks: [3, 1], reservations: new Reservations() }));
    assert.deepEqual(d.placed, { a: [1, 3] });
    assert.equal(d.reservations.length, 2);
  });

  it('is deterministic: same input, same decision', () => {
    const clusters = Array.from({ length: 10 }, (_, i) => cluster(`c${(i * 7) % 10}`, { n1: { cpus: 3 }, n2: { cpus: 2 } }));
    const a = schedule({ clusters, job: job({ replicas: 12 }), reservations: new Reservations() });
    const b = schedule({ clusters: [...clusters].reverse(), job: job({ replicas: 12 }), reservations: new Reservations() });
    assert.deepEqual(a, b);
  });
});

describe('exceeds every cluster', () => {
  const withCap = (c: SchedCluster, capacity: Record<string, Record<string, number>>): SchedCluster => ({ ...c, capacity });
  it('says so only when no READY cluster has a node whose capacity holds one replica', () => {
    const full = withCap(cluster('full', { n1: { cpus: 0 } }), { n1: { cpus: 4 } });
    const small = withCap(cluster('small', { n1: { cpus: 2 } }), { n1: { cpus: 2 }, n2: { cpus: 3 } });
    const big = withCap(cluster('big', { n1: { cpus: 8 } }, {}, 'ERROR'), { n1: { cpus: 8 } });
    const p = pending(schedule({ clusters: [small, big], job: job({ resources: { cpus: 4 } }), reservations: new Reservations() }));
    assert.match(p.exceedsEvery ?? '', /needs cpus 4.*small: cpus 3/);
    // Busy but big enough: not now, yet some day.
    const q = pending(schedule({ clusters: [small, full], job: job({ resources: { cpus: 4 } }), reservations: new Reservations() }));
    assert.equal(q.exceedsEvery, undefined);
    // No READY cluster at all: nothing to exceed.
    assert.equal(pending(schedule({ clusters: [big], job: job({ resources: { cpus: 16 } }), reservations: new Reservations() })).exceedsEvery, undefined);
  });
});
