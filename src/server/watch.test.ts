/** Watches served by the in-process API server's watch cache, read over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, harness, job, openWatch, watchLines, type Harness } from '../../test/support/server-harness.js';

describe('watch', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ bookmarkIntervalMs: 150, watchHistory: 20 });
    await call(h, 'POST', '/namespaces', { kind: 'Namespace', metadata: { name: 'w' } });
  });
  after(() => h.close());

  test('without resourceVersion: current objects as ADDED, then live events', async () => {
    await call(h, 'POST', '/w/jobs', job('w1'));
    const watch = await openWatch(`${h.url}/w/jobs?watch=true`);
    try {
      const events = [await watch.next()];
      await call(h, 'POST', '/w/jobs', job('w2'));
      await call(h, 'DELETE', '/w/jobs/w1');
      events.push(await watch.next(), await watch.next());
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED w1', 'ADDED w2', 'DELETED w1'],
      );
    } finally {
      watch.close();
    }
  });

  test('resume from a resourceVersion is exact; too old is a 410 ERROR', async () => {
    const a = (await call(h, 'POST', '/w/jobs', job('r1'))).json;
    await call(h, 'PATCH', '/w/jobs/r1', { spec: { replicas: 2 } }, 'application/merge-patch+json');
    await call(h, 'POST', '/w/jobs', job('r2'));
    const events = await watchLines(`${h.url}/w/jobs?watch=1&resourceVersion=${a.metadata.resourceVersion}`, 2);
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['MODIFIED r1', 'ADDED r2'],
    );
    assert.ok(Number(events[0].object.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    // Push the history (20 events) past the first revision.
    for (let i = 0; i < 25; i++) await call(h, 'PATCH', '/w/jobs/r2', { metadata: { labels: { i: String(i) } } }, 'application/merge-patch+json');
    const expired = await watchLines(`${h.url}/w/jobs?watch=true&resourceVersion=${a.metadata.resourceVersion}`, 5);
    assert.equal(expired.length, 1);
    assert.equal(expired[0].type, 'ERROR');
    assert.equal(expired[0].object.kind, 'Status');
    assert.equal(expired[0].object.code, 410);
  });

  test('bookmarks carry only the resourceVersion', async () => {
    const events = await watchLines(`${h.url}/w/jobs/nothing-here?watch=true`, 1);
    assert.equal(events[0].type, 'BOOKMARK');
    assert.deepEqual(Object.keys(events[0].object.metadata), ['resourceVersion']);
  });

  test('labelSelector: leaving and entering the selector become DELETED and ADDED', async () => {
    await call(h, 'POST', '/w/jobs', job('sel', { tier: 'a' }));
    const watch = await openWatch(`${h.url}/w/jobs?watch=true&labelSelector=tier%3Da`);
    try {
      const events = [await watch.next()];
      await call(h, 'PATCH', '/w/jobs/sel', { metadata: { labels: { tier: 'b' } } }, 'application/merge-patch+json');
      await call(h, 'POST', '/w/jobs', job('other', { tier: 'b' }));
      await call(h, 'PATCH', '/w/jobs/sel', { metadata: { labels: { tier: 'a' } } }, 'application/merge-patch+json');
      events.push(await watch.next(), await watch.next());
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED sel', 'DELETED sel', 'ADDED sel'],
      );
    } finally {
      watch.close();
    }
  });

  test('timeoutSeconds ends the watch; bad parameters are 400 before streaming', async () => {
    const start = Date.now();
    const res = await fetch(`${h.url}/w/jobs?watch=true&timeoutSeconds=1`);
    await res.text();
    assert.ok(Date.now() - start < 5000);
    const bad = await fetch(`${h.url}/w/jobs?watch=true&resourceVersion=abc`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).kind, 'Status');
  });
});
