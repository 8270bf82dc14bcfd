/**
 * Which skylets a ClusterLifecycle runs: every cluster but agent clusters
 * centrally (a cluster that becomes an agent's loses its central skylet
 * without a drain); exactly one cluster with `skyletCluster` (an agent).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness } from '../../../test/support/server-harness.js';
import { waitFor } from '../../../test/infra/ports.js';
import type { Cluster } from '../../api/index.js';
import { SkyShiftClient } from '../../client/index.js';
import { SimManager, type ClusterManager } from '../../managers/index.js';
import { systemClock } from '../../lib/index.js';
import { DEFAULT_OPTIONS, silentLogger, type ControllerOptions } from '../options.js';
import { EventRecorder, SharedInformers } from '../runtime/index.js';
import { ClusterLifecycle } from './lifecycle.js';

async function lifecycle(t: { after: (fn: () => Promise<void>) => void }, options: Partial<ControllerOptions>) {
  const h = await harness();
  const client = new SkyShiftClient({ server: h.url });
  const abort = new AbortController();
  const built: string[] = [];
  const closed: string[] = [];
  const managerFactory = (c: Cluster): ClusterManager => {
    built.push(c.metadata.name);
    const sim = new SimManager({ name: c.metadata.name, nodes: 1, nodeResources: { cpus: 4, memory: 4096 } });
    const close = sim.close.bind(sim);
    sim.close = async () => {
      closed.push(c.metadata.name);
      await close();
    };
    return sim;
  };
  for (const [name, agent] of [
    ['central', false],
    ['lab', true],
    ['other-lab', true],
  ] as const)
    await client.create('clusters', { kind: 'Cluster', metadata: { name }, spec: { manager: 'sim', config: {}, ...(agent ? { agent: true } : {}) } });
  const informers = new SharedInformers(client, silentLogger);
  const ctx = {
    client,
    informers,
    events: new EventRecorder(client, systemClock, silentLogger),
    clock: systemClock,
    logger: silentLogger,
    options: { ...DEFAULT_OPTIONS, heartbeatSeconds: 1, managerFactory, ...options },
  };
  const ctl = new ClusterLifecycle(ctx);
  const { done, whenSynced } = informers.run(abort.signal);
  await whenSynced;
  const running = ctl.run(abort.signal);
  t.after(async () => {
    abort.abort();
    await Promise.all([running, done]);
    await h.close();
  });
  return { client, ctl, built, closed };
}

test('central: no skylet for agent clusters; a cluster turned agent loses its skylet without a drain', async (t) => {
  const { client, ctl, built, closed } = await lifecycle(t, {});
  await waitFor('central skylet', () => ctl.skylet('central'));
  assert.equal(ctl.skylet('lab'), undefined);
  assert.equal(ctl.skylet('other-lab'), undefined);
  assert.deepEqual(built, ['central']);

  const c = await client.get<Cluster>('clusters', 'central');
  await client.update('clusters', { ...c, spec: { ...c.spec, agent: true } });
  await waitFor('central skylet stopped', () => ctl.skylet('central') === undefined);
  await waitFor('its manager closed', () => closed.includes('central'));
  assert.deepEqual(built, ['central'], 'nothing rebuilt for an agent cluster');
});

test('skyletCluster: exactly that cluster, agent or not', async (t) => {
  const { ctl, built } = await lifecycle(t, { skyletCluster: 'lab' });
  await waitFor('lab skylet', () => ctl.skylet('lab'));
  assert.equal(ctl.skylet('central'), undefined);
  assert.equal(ctl.skylet('other-lab'), undefined);
  assert.deepEqual(built, ['lab']);
});
