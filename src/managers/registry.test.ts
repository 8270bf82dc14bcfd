import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MANAGERS, managerAliases } from '../api/index.js';
import {
  capability,
  clusterConfigSchemas,
  createManager,
  findManager,
  hasCapability,
  ManagerError,
  MANAGER_REGISTRY,
  SimManager,
  unavailableManagers,
} from './index.js';

describe('manager registry', () => {
  it('lists local, slurm, kubernetes and sim, each under a type the API knows, with the API spelling its aliases', () => {
    assert.deepEqual(
      MANAGER_REGISTRY.map((m) => m.type),
      ['local', 'slurm', 'kubernetes', 'sim'],
    );
    for (const m of MANAGER_REGISTRY) {
      assert.ok(MANAGERS.includes(m.type));
      assert.deepEqual(m.aliases, managerAliases(m.type));
    }
    assert.deepEqual(findManager('slurm')?.aliases, ['slurmctl']);
    assert.equal(findManager('SLURMCTL')?.type, 'slurm');
    assert.equal(findManager('k8s')?.type, 'kubernetes');
    assert.equal(findManager('K8')?.type, 'kubernetes');
    assert.deepEqual(unavailableManagers(), ['ray']);
    assert.deepEqual(Object.keys(clusterConfigSchemas()), ['local', 'slurm', 'kubernetes', 'sim']);
  });

  it('builds sim, local and slurm managers from a Cluster', () => {
    const clock = () => 0;
    assert.equal(createManager({ metadata: { name: 's' }, spec: { manager: 'sim', config: { nodes: 2, nodeResources: { cpus: 1 } } } }, { clock }).type, 'sim');
    assert.equal(createManager({ metadata: { name: 'l' }, spec: { manager: 'local', config: { cpus: 2, workdir: '/tmp/x' } } }).type, 'local');
    assert.equal(createManager({ metadata: { name: 'h', uid: 'u1' }, spec: { manager: 'slurm', config: { partition: 'debug' } } }).type, 'slurm');
  });

  it('names the cluster for managers that are not available or unknown', () => {
    assert.throws(() => createManager({ metadata: { name: 'x' }, spec: { manager: 'ray', config: {} } }), /cluster 'x': manager 'ray' is not available yet/);
    assert.throws(() => createManager({ metadata: { name: 'r' }, spec: { manager: 'rayctl' } }), /cluster 'r': manager 'rayctl' is not available yet/);
    assert.throws(
      () => createManager({ metadata: { name: 'z' }, spec: { manager: 'bogus' } }),
      /cluster 'z': unknown manager 'bogus' \(supported: local, slurm, kubernetes, sim\)/,
    );
  });

  it('checks the config against the manager schema, naming the cluster and field', () => {
    assert.throws(
      () => createManager({ metadata: { name: 's' }, spec: { manager: 'sim', config: { nodes: 2 } } }),
      /cluster 's': config\.nodeResources: required/,
    );
    for (const nodes of [1e308, 1e8, 0, 2.5]) {
      assert.throws(
        () => createManager({ metadata: { name: 's' }, spec: { manager: 'sim', config: { nodes, nodeResources: { cpus: 1 } } } }),
        /cluster 's': config\.nodes: must be/,
      );
    }
    assert.throws(
      () => createManager({ metadata: { name: 'l' }, spec: { manager: 'local', config: { cpus: 'many' } } }),
      /cluster 'l': config\.cpus: must be a number of cores/,
    );
    assert.throws(
      () => createManager({ metadata: { name: 'l' }, spec: { manager: 'local', config: { nodes: 3 } } }),
      /cluster 'l': config\.nodes: unknown field/,
    );
    assert.throws(
      () => createManager({ metadata: { name: 'h' }, spec: { manager: 'slurm', config: { interface: 'grpc' } } }),
      /cluster 'h': config\.interface: must be one of cli, rest/,
    );
    const err = (() => {
      try {
        createManager({ metadata: { name: 'h' }, spec: { manager: 'slurm', config: { port: 'ssh' } } });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ManagerError);
    assert.equal(err.code, 422);
  });
});

describe('capabilities', () => {
  const sim = new SimManager({ name: 'sim-a', nodes: 1, nodeResources: { cpus: 1 } });

  it('a manager without a capability answers NotImplemented (501) naming the cluster and manager', () => {
    assert.equal(hasCapability(sim, 'exec'), false);
    for (const [name, words] of [
      ['exec', 'exec'],
      ['portForward', 'port-forward'],
      ['files', 'file transfer'],
      ['network', 'networking'],
    ] as const) {
      assert.throws(
        () => capability(sim, name, 'sim-a'),
        (err: unknown) =>
          err instanceof ManagerError &&
          err.reason === 'NotImplemented' &&
          err.code === 501 &&
          err.message === `cluster 'sim-a' (manager sim) does not support ${words}`,
      );
    }
  });

  it('a manager with the methods is returned typed', async () => {
    const withExec = Object.assign(new SimManager({ name: 'sim-b', nodes: 1, nodeResources: { cpus: 1 } }), {
      exec: async () => {
        throw new Error('not called');
      },
    });
    assert.equal(capability(withExec, 'exec', 'sim-b'), withExec);
  });
});
