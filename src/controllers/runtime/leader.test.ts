import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { Lease } from '../../api/index.js';
import { LeaderElector, type LeaseApi } from './leader.js';

class ConflictError extends Error {
  readonly reason = 'Conflict';
}

/** In-memory Lease store with resourceVersion checks, like the API server's. */
class MemoryLeases {
  rv = 0;
  leases = new Map<string, Lease>();
  /** Handles for one candidate; `down` makes every call of that candidate fail (a partitioned or frozen leader). */
  client(): LeaseApi & { down: boolean } {
    const store = this;
    const check = (c: { down: boolean }) => {
      if (c.down) throw new Error('connection refused');
    };
    const c = {
      down: false,
      async get(name: string) {
        check(c);
        const l = store.leases.get(name);
        return l && structuredClone(l);
      },
      async create(lease: Lease) {
        check(c);
        if (store.leases.has(lease.metadata.name)) throw new ConflictError('AlreadyExists');
        const stored = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++store.rv) } };
        store.leases.set(lease.metadata.name, stored);
        return structuredClone(stored);
      },
      async update(lease: Lease) {
        check(c);
        const cur = store.leases.get(lease.metadata.name);
        if (!cur || cur.metadata.resourceVersion !== lease.metadata.resourceVersion) throw new ConflictError('Conflict');
        const stored = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++store.rv) } };
        store.leases.set(lease.metadata.name, stored);
        return structuredClone(stored);
      },
    };
    return c;
  }
}

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(clock: FakeClock, api: LeaseApi, identity: string) {
  const log: string[] = [];
  let termSignal: AbortSignal | undefined;
  const elector = new LeaderElector({
    api,
    clock,
    identity,
    name: 'controller-manager',
    ...timing,
    onStartedLeading: (s) => {
      termSignal = s;
      log.push(`start@${clock.now()}`);
    },
    onStoppedLeading: () => log.push(`stop@${clock.now()}`),
  });
  const ac = new AbortController();
  const done = elector.run(ac.signal);
  return { elector, log, ac, done, term: () => termSignal };
}

/** Advance in small steps, asserting the safety property at every step. */
async function step(clock: FakeClock, ms: number, ...cs: { elector: LeaderElector }[]) {
  for (let t = 0; t < ms; t += 250) {
    await clock.advance(250);
    assert.ok(cs.filter((c) => c.elector.isLeader()).length <= 1, `two leaders at ${clock.now()}`);
  }
}

describe('LeaderElector', () => {
  it('one of two candidates leads; the other takes over only after the leader stops renewing', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeases();
    const apiA = store.client();
    const a = candidate(clock, apiA, 'a');
    await clock.flush();
    const b = candidate(clock, store.client(), 'b');
    await step(clock, 60_000, a, b);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.equal(a.log.length, 1, 'leadership held without interruption');
    assert.equal(store.leases.get('controller-manager')?.spec.holderIdentity, 'a');

    // a is cut off from the API: it must stop leading within renewDeadline; b takes over after the lease expires.
    apiA.down = true;
    const cutAt = clock.now();
    await step(clock, 30_000, a, b);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.term()?.aborted, true, "a's controllers were told to stop");
    assert.equal(b.elector.isLeader(), true);
    const stopA = Number(a.log[1]?.split('@')[1]);
    const startB = Number(b.log[0]?.split('@')[1]);
    assert.ok(stopA <= cutAt + timing.renewDeadlineMs, `a stopped late: ${stopA - cutAt} ms`);
    assert.ok(startB > stopA, 'b started only after a stopped');
    assert.ok(startB - cutAt >= timing.leaseDurationMs - timing.retryPeriodMs, 'b waited for the lease to expire');
    const lease = store.leases.get('controller-manager');
    assert.equal(lease?.spec.holderIdentity, 'b');
    assert.equal(lease?.spec.leaseTransitions, 1);

    // a comes back: it stays a follower while b renews.
    apiA.down = false;
    await step(clock, 30_000, a, b);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(b.elector.isLeader(), true);

    a.ac.abort();
    b.ac.abort();
    await clock.advance(1);
    await Promise.all([a.done, b.done]);
  });

  it('a leader that shuts down releases the lease so a standby takes over before expiry', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeases();
    const a = candidate(clock, store.client(), 'a');
    await clock.flush();
    const b = candidate(clock, store.client(), 'b');
    await step(clock, 5_000, a, b);
    assert.equal(a.elector.isLeader(), true);
    a.ac.abort();
    await clock.flush();
    await a.done;
    assert.equal(store.leases.get('controller-manager')?.spec.holderIdentity, '');
    const releasedAt = clock.now();
    await step(clock, 3_000, a, b);
    assert.equal(b.elector.isLeader(), true);
    assert.ok(Number(b.log[0]?.split('@')[1]) - releasedAt <= timing.retryPeriodMs);
    b.ac.abort();
    await clock.advance(1);
    await b.done;
  });

  it('conflicting takeovers of an expired lease: exactly one wins', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeases();
    store.leases.set('controller-manager', {
      kind: 'Lease',
      metadata: { name: 'controller-manager', resourceVersion: String(++store.rv), labels: {}, annotations: {} },
      spec: { holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: new Date(clock.now() - 60_000).toISOString(), leaseTransitions: 3 },
      status: {},
    });
    for (let round = 0; round < 5; round++) {
      const names = ['x', 'y', 'z'].map((n) => `${n}${round}`);
      const electors = names.map(
        (identity) => new LeaderElector({ api: store.client(), clock, identity, name: 'controller-manager', ...timing, onStartedLeading: () => {} }),
      );
      const results = await Promise.all(electors.map((e) => e.tryAcquireOrRenew()));
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
      const winner = names[results.indexOf(true)];
      assert.equal(store.leases.get('controller-manager')?.spec.holderIdentity, winner);
      assert.equal(store.leases.get('controller-manager')?.spec.leaseTransitions, 4 + round);
      // Let it expire for the next round.
      await clock.advance(16_000);
    }
  });

  it('rejects timings that would allow two leaders', () => {
    assert.throws(
      () =>
        new LeaderElector({
          api: new MemoryLeases().client(),
          identity: 'a',
          name: 'l',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 9_000,
          retryPeriodMs: 2_000,
          onStartedLeading: () => {},
        }),
      /must be less than leaseDurationMs/,
    );
  });
});
