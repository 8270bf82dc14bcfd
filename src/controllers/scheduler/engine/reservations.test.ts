import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Reservations } from './reservations.js';

describe('Reservations', () => {
  it('sums per node, releases by job or rank, and re-reserve of a rank moves it', () => {
    const r = new Reservations();
    r.reserve('j', 'a', 'n1', 0, { cpus: 1, memory: 100 });
    r.reserve('j', 'a', 'n1', 1, { cpus: 1, memory: 100 });
    r.reserve('k', 'a', 'n2', 0, { cpus: 2 });
    assert.deepEqual(r.freeOn('a', 'n1'), { cpus: 2, memory: 200 });
    r.reserve('j', 'a', 'n2', 1, { cpus: 1, memory: 100 });
    assert.deepEqual(r.freeOn('a', 'n1'), { cpus: 1, memory: 100 });
    assert.deepEqual(r.freeOn('a', 'n2'), { cpus: 3, memory: 100 });
    assert.equal(r.release('j', 0), 1);
    assert.deepEqual(r.freeOn('a', 'n1'), {});
    assert.equal(r.release('j'), 1);
    assert.equal(r.release('k'), 1);
    assert.equal(r.size, 0);
    assert.equal(r.reservedOn('a'), undefined);
  });

  it('a heartbeat after the submit but before the replica is seen started releases nothing', () => {
    const r = new Reservations();
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 }, 10);
    // The manager accepted it but queued it (Slurm PENDING, sim with no room): its allocatable does not show it.
    assert.equal(r.confirmHeartbeat('a', 100), 0, 'submitted is not enough');
    r.markSeen('j', 'a', 0, 120);
    assert.equal(r.confirmHeartbeat('a', 200), 0, 'seen PENDING is not enough');
    assert.deepEqual(r.freeOn('a', 'n1'), { cpus: 1 });
  });

  it('releases on a heartbeat taken strictly after the replica was seen started, on its cluster only', () => {
    const r = new Reservations();
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 }, 10);
    r.reserve('j', 'b', 'n1', 1, { cpus: 1 }, 10);
    assert.equal(r.markStarted('j', 'b', 0, 60), false, 'rank 0 is reserved on a, not b');
    assert.equal(r.markStarted('j', 'a', 0, 60), true, 'first sighting as started');
    assert.equal(r.markStarted('j', 'a', 0, 90), false, 'later sightings keep the first time');
    assert.equal(r.confirmHeartbeat('a', 40), 0, 'snapshot before the sighting');
    assert.equal(r.confirmHeartbeat('a', 60), 0, 'same millisecond: the snapshot may predate the start');
    assert.equal(r.confirmHeartbeat('b', 100), 0, 'other cluster: rank 1 not seen started');
    assert.equal(r.confirmHeartbeat('a', 61), 1);
    assert.deepEqual(
      r.list().map((e) => `${e.jobUid}#${e.rank}@${e.cluster}`),
      ['j#1@b'],
    );
  });

  it('retainPlaced releases ranks evicted or placed elsewhere, nothing else', () => {
    const r = new Reservations();
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 });
    r.reserve('j', 'a', 'n1', 1, { cpus: 1 });
    r.reserve('j', 'b', 'n1', 2, { cpus: 1 });
    assert.equal(r.retainPlaced('j', { a: [0, 1], b: [2] }), 0);
    assert.equal(r.retainPlaced('j', { a: [0], c: [2] }), 2);
    assert.deepEqual(
      r.list().map((e) => `${e.rank}@${e.cluster}`),
      ['0@a'],
    );
  });

  it('expires reservations with no sign of life for longer than the TTL; sightings keep them alive', () => {
    const r = new Reservations({ ttlMs: 1000 });
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 }, 0);
    r.reserve('k', 'a', 'n1', 0, { cpus: 1 }, 900);
    r.reserve('q', 'a', 'n1', 0, { cpus: 1 }, 0);
    r.markSeen('q', 'a', 0, 800); // queued on the manager: not lost
    assert.equal(r.expire(1000).length, 0);
    assert.deepEqual(
      r.expire(1001).map((e) => e.jobUid),
      ['j'],
    );
    assert.deepEqual(
      r
        .list()
        .map((e) => e.jobUid)
        .sort(),
      ['k', 'q'],
    );
    assert.deepEqual(
      r.expire(1801, (e) => e.jobUid === 'k').map((e) => e.jobUid),
      ['q'],
      'k is vouched for',
    );
    assert.deepEqual(
      r.list().map((e) => e.jobUid),
      ['k'],
    );
  });

  it('defaults to a long TTL (a safety net, not a release path)', () => {
    assert.ok(new Reservations().ttlMs >= 30 * 60_000);
  });

  it('version changes on every mutation of a cluster', () => {
    const r = new Reservations();
    const v0 = r.version('a');
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 });
    const v1 = r.version('a');
    assert.notEqual(v1, v0);
    r.release('j');
    assert.notEqual(r.version('a'), v1);
  });
});
