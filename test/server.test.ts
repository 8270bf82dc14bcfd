/** Real-process smoke test: `skyshift server` on SQLite, real HTTP, SIGTERM exits 0. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from './infra/server.js';

test('skyshift server serves the API over HTTP and exits 0 on SIGTERM', async () => {
  const server = await startServer();
  try {
    const post = await fetch(`${server.url}/default/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'kind: Job\nmetadata:\n  name: smoke\nspec:\n  run: echo hi\n',
    });
    assert.equal(post.status, 201, await post.clone().text());
    const created = (await post.json()) as { metadata: { resourceVersion: string } };

    // A watch from before the create replays it; the open stream must not block shutdown.
    const watch = await fetch(`${server.url}/default/jobs?watch=true&resourceVersion=1`);
    const reader = watch.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const event = JSON.parse(first.split('\n')[0]!) as { type: string; object: { metadata: { name: string; resourceVersion: string } } };
    assert.equal(event.type, 'ADDED');
    assert.equal(event.object.metadata.name, 'smoke');
    assert.equal(event.object.metadata.resourceVersion, created.metadata.resourceVersion);

    const missing = await fetch(`${server.url}/default/jobs/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { kind: string }).kind, 'Status');

    const exited = new Promise<number | null>((resolve) => server.daemon.child.once('exit', (code) => resolve(code)));
    process.kill(server.daemon.pid, 'SIGTERM');
    assert.equal(await exited, 0);
    // The watch stream ends when the server shuts down.
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
  } finally {
    await server.stop();
  }
});
