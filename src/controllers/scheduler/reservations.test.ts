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

  it('heartbeat confirms only submitted reservations older than the snapshot; observed replicas confirm directly', () => {
    const r = new Reservations();
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 }, 10);
    r.reserve('j', 'b', 'n1', 1, { cpus: 1 }, 10);
    assert.equal(r.confirmHeartbeat('a', 100), 0, 'not yet submitted: heartbeat cannot reflect it');
    r.markSubmitted('j', 'a', 50);
    assert.equal(r.confirmHeartbeat('b', 100), 0, 'other cluster untouched');
    assert.equal(r.confirmHeartbeat('a', 40), 0, 'snapshot older than submission');
    assert.equal(r.confirmHeartbeat('a', 50), 0, 'same millisecond as the submit: not proof the snapshot saw it');
    assert.equal(r.confirmHeartbeat('a', 60), 1);
    assert.equal(r.confirmObserved('a', [{ jobUid: 'j', rank: 1 }]), 0, 'rank 1 lives on b');
    assert.equal(r.confirmObserved('b', [{ jobUid: 'j', rank: 1 }]), 1);
    assert.equal(r.size, 0);
  });

  it('expires unconfirmed reservations after the TTL', () => {
    const r = new Reservations({ ttlMs: 1000 });
    r.reserve('j', 'a', 'n1', 0, { cpus: 1 }, 0);
    r.reserve('k', 'a', 'n1', 0, { cpus: 1 }, 900);
    assert.equal(r.expire(1000), 0);
    assert.equal(r.expire(1001), 1);
    assert.deepEqual(r.list().map((e) => e.jobUid), ['k']);
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
