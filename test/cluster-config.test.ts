/**
 * A Cluster's spec.config is validated at the API against its manager's
 * schema from src/managers' registry, once the composition root has handed
 * the schemas over (src/bin/wire-managers.ts); spec.manager is required.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { registerClusterConfigSchemas } from '../src/api/index.js';
import { wireManagers } from '../src/bin/wire-managers.js';
import { harness, type Harness } from './support/server-harness.js';

let h: Harness;
before(async () => {
  h = await harness({ listen: false });
});
after(async () => {
  registerClusterConfigSchemas({});
  await h.close();
});

async function create(name: string, spec: unknown) {
  const res = await h.server.app.inject({ method: 'POST', url: '/clusters', payload: { kind: 'Cluster', metadata: { name }, spec } });
  return { code: res.statusCode, json: res.json() as { reason?: string; message?: string; details?: { causes?: { field: string; message: string }[] } } };
}
const fields = (r: Awaited<ReturnType<typeof create>>) => (r.json.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);

describe('cluster spec', () => {
  test('spec.manager is required: an empty spec is 422 naming it', async () => {
    const r = await create('empty', {});
    assert.equal(r.code, 422);
    assert.deepEqual(fields(r), ['spec.manager: required']);
    assert.equal((await create('none', undefined)).code, 422);
  });

  test('without the managers wired, any config map is accepted (a bare server)', async () => {
    registerClusterConfigSchemas({});
    assert.equal((await create('loose', { manager: 'local', config: { nodes: 3 } })).code, 201);
  });

  test("with the registry's schemas, spec.config is checked for its manager, naming each field", async () => {
    wireManagers(h.store);
    let r = await create('bad-local', { manager: 'local', config: { cpus: 'many', memory: 'lots', bogus: 1, runtime: 'docker' } });
    assert.equal(r.code, 422);
    assert.deepEqual(fields(r).sort(), [
      'spec.config.bogus: unknown field',
      'spec.config.cpus: must be a number of cores like 2, 0.5 or 500m',
      'spec.config.memory: must be a number of MiB or a quantity like 512Mi, 2Gi, 2GB or 1.5T',
      'spec.config.runtime: must be one of podman (got "docker")',
    ]);
    r = await create('bad-sim', { manager: 'sim', config: { nodes: 0 } });
    assert.deepEqual(fields(r).sort(), ['spec.config.nodeResources: required', 'spec.config.nodes: must be >= 1']);
    r = await create('bad-slurm', { manager: 'slurmctl', config: { interface: 'grpc', port: 70000, env: { A: 1 } } });
    assert.equal(r.code, 422);
    assert.deepEqual(fields(r).sort(), [
      'spec.config.env.A: must be a string',
      'spec.config.interface: must be one of cli, rest (got "grpc")',
      'spec.config.port: must be <= 65535',
    ]);
    // Valid ones, snake_case keys included (the API camel-cases config keys first).
    assert.equal((await create('edge', { manager: 'local', config: { cpus: '1500m', memory: '2Gi', run_as: 'nobody' } })).code, 201);
    assert.equal((await create('hpc', { manager: 'slurm', config: { interface: 'rest', url: 'http://h:6820', token_file: '/t' } })).code, 201);
    assert.equal((await create('sim-a', { manager: 'sim', config: { nodes: 2, nodeResources: { cpus: 4 } } })).code, 201);
    // Managers the API knows but this build does not run keep any config; the cluster itself then reports that it is not available.
    assert.equal((await create('gpu-a', { manager: 'k8s', config: { kubeconfig: '~/.kube/config', context: 'gpu-a' } })).code, 201);
  });

  test('a PUT is checked too', async () => {
    const got = await h.server.app.inject({ method: 'GET', url: '/clusters/edge' });
    const obj = got.json() as { spec: { config: Record<string, unknown> } };
    obj.spec.config.cpus = -1;
    const res = await h.server.app.inject({ method: 'PUT', url: '/clusters/edge', payload: obj });
    assert.equal(res.statusCode, 422);
    assert.match(res.body, /spec\.config\.cpus: must be > 0/);
  });
});
