import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../../test/infra/ports.js';
import type { Job } from '../../api/index.js';
import { SkyShiftClient } from '../../client/index.js';
import { systemClock } from '../../lib/index.js';
import { createApiServer, type ApiServer } from '../../server/index.js';
import { openStore } from '../../store/index.js';
import { DEFAULT_OPTIONS, silentLogger } from '../options.js';
import { EventRecorder, SharedInformers } from '../runtime/index.js';
import { createTtlController, finishedAt } from './controller.js';

let server: ApiServer;
let client: SkyShiftClient;
before(async () => {
  server = createApiServer({ store: await openStore('memory:') });
  client = new SkyShiftClient({ server: await server.start({ host: '127.0.0.1', port: 0 }) });
});
after(async () => {
  await server.close();
});

async function finishedJob(name: string, spec: Record<string, unknown>, completionTime: string): Promise<void> {
  const job = await client.create<Job>('jobs', { kind: 'Job', metadata: { name, namespace: 'default' }, spec: { run: 'true', ...spec } });
  await client.updateStatus('jobs', { ...job, status: { ...job.status, phase: 'COMPLETED', completionTime } });
}

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const exists = async (plural: string, name: string) =>
  client.get(plural, name, { namespace: 'default' }).then(
    () => true,
    () => false,
  );

test('finishedAt: completionTime, else the newest condition transition; undefined while not finished', () => {
  const job = { status: { phase: 'FAILED', conditions: [{ type: 'A', status: 'True', lastTransitionTime: '2026-01-01T00:00:05Z' }] } } as unknown as Job;
  assert.equal(finishedAt(job), Date.parse('2026-01-01T00:00:05Z'));
  assert.equal(finishedAt({ ...job, status: { ...job.status, completionTime: '2026-01-01T00:00:09Z' } } as Job), Date.parse('2026-01-01T00:00:09Z'));
  assert.equal(finishedAt({ ...job, status: { ...job.status, phase: 'ACTIVE' } } as Job), undefined);
});

test('finished jobs past ttlSecondsAfterFinished and events past the event TTL are deleted; the rest are kept', async () => {
  await finishedJob('expired', { ttlSecondsAfterFinished: 5 }, ago(10));
  await finishedJob('young', { ttlSecondsAfterFinished: 600 }, ago(10));
  await finishedJob('no-ttl', {}, ago(100_000));
  const involvedObject = { kind: 'Job', name: 'no-ttl', namespace: 'default' };
  await client.create('events', {
    kind: 'Event',
    metadata: { name: 'old', namespace: 'default' },
    spec: { involvedObject, reason: 'X', lastTimestamp: ago(120) },
  });
  await client.create('events', {
    kind: 'Event',
    metadata: { name: 'fresh', namespace: 'default' },
    spec: { involvedObject, reason: 'X', lastTimestamp: ago(1) },
  });

  const informers = new SharedInformers(client, silentLogger);
  const ctx = {
    client,
    informers,
    events: new EventRecorder(client, systemClock, silentLogger),
    clock: systemClock,
    logger: silentLogger,
    options: { ...DEFAULT_OPTIONS, eventTtlSeconds: 60 },
  };
  const controller = createTtlController(ctx);
  const abort = new AbortController();
  const run = informers.run(abort.signal);
  await run.whenSynced;
  const done = controller.run(abort.signal);
  try {
    await waitFor('expired job and old event deleted', async () => !(await exists('jobs', 'expired')) && !(await exists('events', 'old')), 5000, 50);
    assert.ok(await exists('jobs', 'young'));
    assert.ok(await exists('jobs', 'no-ttl'));
    assert.ok(await exists('events', 'fresh'));
  } finally {
    abort.abort();
    await done;
    await run.done;
  }
});
