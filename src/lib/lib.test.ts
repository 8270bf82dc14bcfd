import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, forEachLimit, KeyedBackoff, sleep } from './index.js';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, never Infinity', () => {
    const none = { baseMs: 100, maxMs: 1000, jitter: 0 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelay(n, none)),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(backoffDelay(10_000, none), 1000);
  });
  it('takes at most the jitter fraction off, at random', () => {
    assert.equal(backoffDelay(1, { baseMs: 100, jitter: 0.2, random: () => 1 }), 80);
    assert.equal(backoffDelay(1, { baseMs: 100, jitter: 0.2, random: () => 0 }), 100);
  });
  it('is kept per key and reset by forget', () => {
    const b = new KeyedBackoff<string>({ baseMs: 10, jitter: 0 });
    assert.equal(b.next('a'), 10);
    assert.equal(b.next('a'), 20);
    assert.equal(b.next('b'), 10);
    b.forget('a');
    assert.equal(b.failuresOf('a'), 0);
    assert.equal(b.next('a'), 10);
  });
});

describe('sleep', () => {
  it('resolves false at once when aborted, true when the time passes', async () => {
    const ac = new AbortController();
    const pending = sleep(60_000, ac.signal);
    ac.abort();
    assert.equal(await pending, false);
    assert.equal(await sleep(1), true);
  });
});

describe('forEachLimit', () => {
  it('never runs more than the limit at once and runs every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      seen.push(n);
      running--;
    });
    assert.equal(peak, 3);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  });
});
