/**
 * Every manifest in examples/ applies through skyctl against a real server, and
 * the Python-era snake_case twins in examples/python-skyshift/ mean the same
 * thing as their camelCase originals.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkyShiftClient } from '../src/client/index.js';
import { ok, runSkyctl } from './infra/skyctl.js';
import { REPO_ROOT, startServer, type TestServer } from './infra/server.js';

const EXAMPLES = join(REPO_ROOT, 'examples');
const PYTHON_EXAMPLES = join(EXAMPLES, 'python-skyshift');
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

describe('examples', () => {
  let server: TestServer;
  let client: SkyShiftClient;
  const skyctl = (args: string[]) => runSkyctl(args, { home: server.dir, server: server.url });

  before(async () => {
    server = await startServer();
    client = new SkyShiftClient({ server: server.url });
  });
  after(() => server.stop());

  test('every example applies, and applying again changes nothing', async () => {
    // Both folders hold manifests; apply -f DIR takes the .yaml files of one folder.
    const expected = [...yamlFiles(EXAMPLES), ...yamlFiles(PYTHON_EXAMPLES)].length;
    assert.ok(expected >= 11, `expected at least 11 example manifests, found ${expected}`);
    const first = ok(await skyctl(['apply', '-f', EXAMPLES, '-f', PYTHON_EXAMPLES]));
    const created = first.stdout.split('\n').filter((l) => / created$/.test(l));
    assert.equal(created.length, expected, first.stdout);
    const second = ok(await skyctl(['apply', '-f', EXAMPLES, '-f', PYTHON_EXAMPLES]));
    const unchanged = second.stdout.split('\n').filter((l) => / unchanged$/.test(l));
    assert.equal(unchanged.length, expected, second.stdout);
  });

  test('snake_case twins are stored exactly like their camelCase originals', async () => {
    const policy = await client.get('filterpolicies', 'research-no-prod', { namespace: 'default' });
    const policyPy = await client.get('filterpolicies', 'research-no-prod-py', { namespace: 'default' });
    assert.deepEqual(policyPy.spec, policy.spec);
    assert.deepEqual(policy.spec, { clusterFilter: { include: ['dev', 'staging'], exclude: ['prod'] }, labelsSelector: { team: 'research' } });

    const job = await client.get('jobs', 'sky-hello', { namespace: 'default' });
    const jobPy = await client.get('jobs', 'hello-py', { namespace: 'default' });
    assert.equal(jobPy.spec.restartPolicy, 'Never');
    assert.deepEqual(jobPy.spec.resources, job.spec.resources, '256 (MiB) and 256Mi are the same memory');

    const sweep = await client.get('jobs', 'sweep', { namespace: 'default' });
    const sweepPy = await client.get('jobs', 'sweep-py', { namespace: 'default' });
    for (const field of ['replicas', 'resources', 'envs', 'restartPolicy']) {
      assert.deepEqual(sweepPy.spec[field], sweep.spec[field], field);
    }

    const placed = await client.get('jobs', 'placed', { namespace: 'default' });
    const placedPy = await client.get('jobs', 'placed-py', { namespace: 'default' });
    const placement = placed.spec.placement as { filters: unknown[]; preferences: unknown[] };
    const placementPy = placedPy.spec.placement as { filters: unknown[]; preferences: unknown[] };
    assert.deepEqual(placementPy.preferences, placement.preferences);
    assert.deepEqual(placementPy.filters[0], placement.filters[0]);
    assert.doesNotMatch(JSON.stringify(placedPy.spec), /match_labels|match_expressions/);
  });
});
