/**
 * agent-health against a real in-process API server: an agent cluster whose
 * heartbeat stops changing is marked ERROR after N heartbeat periods (our
 * clock, not the agent's timestamps), its replicas are evicted after the
 * grace period, a beat in time resets the count, and non-agent clusters are
 * never touched.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { harness } from '../../../test/support/server-harness.js';
import { waitFor } from '../../../test/infra/ports.js';
import type { Cluster, Job } from '../../api/index.js';
import { SkyShiftClient } from '../../client/index.js';
import { systemClock, type Clock } from '../../lib/index.js';
import { DEFAULT_OPTIONS, silentLogger } from '../options.js';
import { EventRecorder, SharedInformers } from '../runtime/index.js';
import { AGENT_HEARTBEAT_LABEL, AgentHealth } from './controller.js';

test('agent-health: stale heartbeat -> ERROR -> eviction after the grace period; a fresh beat resets; others untouched', async (t) => {
  const h = await harness();
  const client = new SkyShiftClient({ server: h.url });
  const abort = new AbortController();
  after(async () => {
    abort.abort();
    await h.close();
  });
  let now = Date.parse('2026-12-01T00:00:00Z');
  const clock: Clock = { ...systemClock, now: () => now };

  const beat = async (name: string, iso: string) => {
    const c = await client.get<Cluster>('clusters', name);
    c.status = { ...c.status, phase: 'READY', lastHeartbeatTime: iso };
    await client.updateStatus('clusters', c);
  };
  // The agent's clock is a year off: only changes of its timestamp count.
  for (const [name, agent] of [
    ['ag', true],
    ['plain', false],
  ] as const) {
    await client.create('clusters', { kind: 'Cluster', metadata: { name }, spec: { manager: 'local', config: {}, ...(agent ? { agent: true } : {}) } });
    await beat(name, '2025-01-01T00:00:00Z');
  }
  const job = await client.create<Job>('jobs', { kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { run: 'x', replicas: 2 } });
  job.status = { ...job.status, phase: 'ACTIVE', placements: { ag: [0, 1] } } as Job['status'];
  await client.updateStatus('jobs', job, { namespace: 'default' });

  const informers = new SharedInformers(client, silentLogger);
  const events = new EventRecorder(client, clock, silentLogger);
  const options = { ...DEFAULT_OPTIONS, heartbeatSeconds: 1, evictionGraceSeconds: 3, agentStaleHeartbeats: 5 };
  const ctl = new AgentHealth({ client, informers, events, clock, logger: silentLogger, options });
  const { whenSynced } = informers.run(abort.signal);
  await whenSynced;
  const phase = async (name: string) => (await client.get<Cluster>('clusters', name)).status?.phase;
  const cached = (name: string, pred: (c: Cluster) => boolean) =>
    waitFor(`cache of ${name}`, () => pred(informers.informer<Cluster>('clusters').get(name) as Cluster));

  await ctl.check(abort.signal);
  now += 4000;
  await ctl.check(abort.signal);
  assert.equal(await phase('ag'), 'READY', 'four silent seconds are not five heartbeats');

  await beat('ag', '2025-01-01T00:00:04Z');
  await cached('ag', (c) => c.status?.lastHeartbeatTime === '2025-01-01T00:00:04.000Z' || c.status?.lastHeartbeatTime === '2025-01-01T00:00:04Z');
  await ctl.check(abort.signal);
  now += 4000;
  await ctl.check(abort.signal);
  assert.equal(await phase('ag'), 'READY', 'a beat resets the count');

  now += 1500;
  await ctl.check(abort.signal);
  const errored = await client.get<Cluster>('clusters', 'ag');
  assert.equal(errored.status?.phase, 'ERROR');
  assert.match(errored.status?.message ?? '', /agent of cluster 'ag' has sent no heartbeat for 6 s/);
  assert.equal(errored.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'AgentLost');
  assert.equal(await phase('plain'), 'READY', 'a cluster without an agent is the skylet heartbeat’s business');
  assert.deepEqual((await client.get<Job>('jobs', 'j', { namespace: 'default' })).status?.placements, { ag: [0, 1] }, 'nothing evicted yet');

  await cached('ag', (c) => c.status?.phase === 'ERROR');
  now += 2000;
  await ctl.check(abort.signal);
  assert.deepEqual((await client.get<Job>('jobs', 'j', { namespace: 'default' })).status?.placements, { ag: [0, 1] }, 'still within the grace');
  now += 1500;
  await ctl.check(abort.signal);
  const evicted = await client.get<Job>('jobs', 'j', { namespace: 'default' });
  assert.deepEqual(evicted.status?.placements?.['ag'] ?? [], [], JSON.stringify(evicted.status));
  t.diagnostic(`job status after eviction: ${JSON.stringify(evicted.status)}`);
});

test('agent-health judges an agent by the longer of its stated heartbeat period and ours; a silly claim is capped', async () => {
  const h = await harness();
  const client = new SkyShiftClient({ server: h.url });
  const abort = new AbortController();
  after(async () => {
    abort.abort();
    await h.close();
  });
  let now = Date.parse('2026-12-01T00:00:00Z');
  const clock: Clock = { ...systemClock, now: () => now };
  for (const [name, seconds] of [
    ['slow', '3'],
    ['liar', '1e9'],
  ] as const) {
    const c = await client.create<Cluster>('clusters', {
      kind: 'Cluster',
      metadata: { name, labels: { [AGENT_HEARTBEAT_LABEL]: seconds } },
      spec: { manager: 'local', config: {}, agent: true },
    });
    c.status = { ...c.status, phase: 'READY', lastHeartbeatTime: '2026-12-01T00:00:00Z' };
    await client.updateStatus('clusters', c);
  }
  const informers = new SharedInformers(client, silentLogger);
  const options = { ...DEFAULT_OPTIONS, heartbeatSeconds: 1, evictionGraceSeconds: 3, agentStaleHeartbeats: 5 };
  const ctl = new AgentHealth({ client, informers, events: new EventRecorder(client, clock, silentLogger), clock, logger: silentLogger, options });
  await informers.run(abort.signal).whenSynced;
  const phase = async (name: string) => (await client.get<Cluster>('clusters', name)).status?.phase;

  await ctl.check(abort.signal);
  now += 10_000;
  await ctl.check(abort.signal);
  assert.equal(await phase('slow'), 'READY', '10 s of silence is not 5 of its 3 s heartbeats');
  now += 6_000;
  await ctl.check(abort.signal);
  assert.equal(await phase('slow'), 'ERROR');
  now += 3600_000 * 5;
  await ctl.check(abort.signal);
  assert.equal(await phase('liar'), 'ERROR', 'a stated period is believed up to an hour');
});
