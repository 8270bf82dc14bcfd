/**
 * e2e (d): placement filters (In, NotIn, Exists, DoesNotExist, matchLabels)
 * and weighted preferences choose the expected cluster, in both directions.
 * Clusters: dev {env: dev} and staging {env: staging, tier: pre}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  conditionText,
  createLocalClusters,
  job,
  phaseIs,
  placementCounts,
  sleep,
  startSkyShift,
  waitForJob,
  type SkyShiftInstance,
} from '../infra/skyshift.js';

describe('e2e d: placement filters and preferences', { timeout: 180_000 }, () => {
  let sky: SkyShiftInstance;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster', '--heartbeat-seconds', '1'] });
    await createLocalClusters(sky, [
      { name: 'dev', cpus: 4, labels: { env: 'dev' } },
      { name: 'staging', cpus: 4, labels: { env: 'staging', tier: 'pre' } },
    ]);
  });
  after(async () => {
    await sky?.cleanup();
  });

  async function placedOn(name: string, placement: unknown): Promise<string[]> {
    await sky.client.create('jobs', job(name, 'true', { placement }));
    const done = await waitForJob(sky.client, 'default', name, phaseIs('COMPLETED', 'FAILED'), 30_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', `${name}: ${JSON.stringify(done.status)}`);
    return Object.keys(placementCounts(done)).sort();
  }

  const cases: Array<[string, unknown, string]> = [
    ['filter-in-dev', { filters: [{ name: 'f', matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }] }, 'dev'],
    ['filter-notin-dev', { filters: [{ name: 'f', matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }] }, 'staging'],
    ['filter-in-staging', { filters: [{ name: 'f', matchExpressions: [{ key: 'env', operator: 'In', values: ['staging'] }] }] }, 'staging'],
    ['filter-notin-staging', { filters: [{ name: 'f', matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['staging'] }] }] }, 'dev'],
    ['filter-exists-tier', { filters: [{ name: 'f', matchExpressions: [{ key: 'tier', operator: 'Exists' }] }] }, 'staging'],
    ['filter-notexists-tier', { filters: [{ name: 'f', matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }] }, 'dev'],
    ['filter-labels-staging', { filters: [{ name: 'f', matchLabels: { env: 'staging' } }] }, 'staging'],
    [
      'prefer-dev',
      {
        preferences: [
          { name: 'd', matchLabels: { env: 'dev' }, weight: 100 },
          { name: 's', matchLabels: { env: 'staging' }, weight: 10 },
        ],
      },
      'dev',
    ],
    [
      'prefer-staging',
      {
        preferences: [
          { name: 'd', matchLabels: { env: 'dev' }, weight: 10 },
          { name: 's', matchLabels: { env: 'staging' }, weight: 100 },
        ],
      },
      'staging',
    ],
  ];
  for (const [name, placement, expected] of cases) {
    test(`${name} runs on ${expected}`, async () => {
      assert.deepEqual(await placedOn(name, placement), [expected]);
    });
  }

  test('a filter no cluster matches (env=prod) leaves the job PENDING with reasons', async () => {
    await sky.client.create('jobs', job('filter-prod', 'true', { placement: { filters: [{ name: 'prod', matchLabels: { env: 'prod' } }] } }));
    const pending = await waitForJob(sky.client, 'default', 'filter-prod', (j) => j.status?.phase === 'PENDING' && conditionText(j) !== '', 15_000, 'PENDING');
    const why = conditionText(pending);
    assert.match(why, /dev/, why);
    assert.match(why, /staging/, why);
    await sleep(3000); // several heartbeats: still nowhere to go
    const later = await sky.client.get<any>('jobs', 'filter-prod');
    assert.equal(later.status.phase, 'PENDING', JSON.stringify(later.status));
    assert.deepEqual(placementCounts(later), {});
  });
});
