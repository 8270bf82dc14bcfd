import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { KeyedBackoff } from '../../lib/index.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('dedupes waiting keys and hands them out in order', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    q.done('a');
    q.done('b');
    assert.equal(q.length, 0);
  });

  it('never hands a key in flight to a second worker; a re-add while processing runs it again after', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.length, 0, 'held back while in flight');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined);
    q.done('a');
    await new Promise((r) => setImmediate(r));
    assert.equal(second, 'a');
    q.done('a');
    assert.equal(q.length, 0, 'two re-adds while processing collapse to one');
  });

  it('run(): a key whose handler throws (and whose error callback throws too) does not stop the others', async () => {
    const q = new WorkQueue<string>({
      baseMs: 1,
      onError: () => {
        throw new Error('logger broke');
      },
    });
    const done: string[] = [];
    const ac = new AbortController();
    const running = q.run(
      1,
      (key) => {
        if (key === 'poison') throw new Error('cannot handle');
        done.push(key);
      },
      ac.signal,
    );
    q.add('poison');
    q.add('a');
    q.add('b');
    while (done.length < 2) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(q.numRequeues('poison') >= 2, 'the poison key is retried with backoff');
    ac.abort();
    await running;
    assert.deepEqual(done, ['a', 'b']);
  });

  it('run(): concurrent workers never overlap on a key, and process every add', async () => {
    const q = new WorkQueue<string>();
    const active = new Set<string>();
    const seen: string[] = [];
    let overlaps = 0;
    const ac = new AbortController();
    const running = q.run(
      4,
      async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        seen.push(key);
        await new Promise((r) => setImmediate(r));
        active.delete(key);
      },
      ac.signal,
    );
    for (let i = 0; i < 50; i++) q.add(`k${i % 5}`);
    while (seen.length < 5 || q.length > 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await running;
    assert.equal(overlaps, 0);
    assert.deepEqual([...new Set(seen)].sort(), ['k0', 'k1', 'k2', 'k3', 'k4']);
  });

  it('addAfter waits on the injected clock; the earliest of two delays wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    await clock.advance(299);
    assert.equal(q.length, 0);
    await clock.advance(1);
    assert.equal(q.length, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it('failed keys retry with capped exponential backoff; success forgets', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock, baseMs: 100, maxMs: 1000, jitter: 0 });
    const attempts: number[] = [];
    const t0 = clock.now();
    const ac = new AbortController();
    const running = q.run(
      1,
      (key) => {
        attempts.push(clock.now() - t0);
        if (attempts.length < 6) throw new Error(`boom ${key}`);
      },
      ac.signal,
    );
    q.add('x');
    await clock.advance(10_000);
    assert.deepEqual(attempts, [0, 100, 300, 700, 1500, 2500]);
    assert.equal(q.numRequeues('x'), 0, 'forgotten after success');
    ac.abort();
    await running;
    const b = new KeyedBackoff<string>({ baseMs: 5, maxMs: 60_000, jitter: 0 });
    for (let i = 0; i < 2000; i++) b.next('k');
    assert.equal(b.next('k'), 60_000);
  });

  it('requeueAfterMs re-checks later without counting a failure', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    let calls = 0;
    const ac = new AbortController();
    const running = q.run(1, () => (++calls < 3 ? { requeueAfterMs: 1000 } : undefined), ac.signal);
    q.add('x');
    await clock.advance(999);
    assert.equal(calls, 1);
    await clock.advance(5000);
    assert.equal(calls, 3);
    assert.equal(q.numRequeues('x'), 0);
    ac.abort();
    await running;
  });

  it('shutdown releases waiting workers and drops delayed keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('later', 100);
    q.shutdown();
    assert.equal(await waiting, undefined);
    assert.equal(clock.pendingTimers, 0);
    q.add('x');
    assert.equal(await q.get(), undefined);
  });
});
