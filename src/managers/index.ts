/**
 * Public face of src/managers: the ClusterManager contract, its
 * implementations, and the factory the controllers use to build one from a
 * Cluster object.
 */
import { parseCpus, parseMemory } from '../api/units.js';
import { ManagerError } from './errors.js';
import { LocalManager, type LocalManagerConfig } from './local/index.js';
import { SimManager, type SimManagerConfig } from './sim/index.js';
import { SlurmManager, type SlurmManagerConfig } from './slurm/index.js';
import type { ClusterManager, Resources } from './types.js';

export * from './types.js';
export { ManagerError } from './errors.js';
export { LocalManager, type LocalManagerConfig, DirLockedError, lockDirectory, lockHolder, type LockHolder } from './local/index.js';
export { SimManager, type SimManagerConfig } from './sim/index.js';
export { SlurmManager, type SlurmManagerConfig } from './slurm/index.js';

/** The part of a Cluster object a manager is built from. */
export interface ClusterRef {
  metadata: { name: string; uid?: string };
  spec: { manager: string; config?: Record<string, unknown> };
}

/** Largest simulated cluster: far beyond any benchmark (100 x 100 nodes), far below memory trouble. */
const MAX_SIM_NODES = 100_000;

/** Options for tests and embedding, not part of the Cluster object. */
export interface CreateManagerOptions {
  /** Injected clock for the sim manager (ms). */
  clock?: () => number;
}

/** Build the manager for a cluster; throws (naming the cluster) for unknown or not yet available managers and bad config. */
export function createManager(cluster: ClusterRef, options: CreateManagerOptions = {}): ClusterManager {
  const name = cluster.metadata.name;
  const config = cluster.spec.config ?? {};
  const manager = cluster.spec.manager;
  switch (manager) {
    case 'local':
      return new LocalManager({
        name,
        // `skyctl create cluster --memory 2Gi` stores the quantity as written, so accept units here (memory in MiB).
        cpus: optQuantity(name, config, 'cpus', parseCpus),
        memory: optQuantity(name, config, 'memory', parseMemory),
        workdir: optString(name, config, 'workdir'),
        runAs: optString(name, config, 'runAs'),
        runtime: optString(name, config, 'runtime') as LocalManagerConfig['runtime'],
        // Isolated podman storage (rootless setups, tests); unset means podman's default storage.
        podmanRoot: optString(name, config, 'podmanRoot'),
        podmanRunroot: optString(name, config, 'podmanRunroot'),
      });
    case 'sim': {
      const nodes = optNumber(name, config, 'nodes');
      const nodeResources = config.nodeResources;
      if (nodes === undefined) throw new ManagerError('Invalid', `cluster '${name}': sim manager needs config.nodes`);
      // The simulator builds one record per node: bounded before anything is allocated.
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_SIM_NODES) {
        throw new ManagerError('Invalid', `cluster '${name}': config.nodes must be an integer from 1 to ${MAX_SIM_NODES}`);
      }
      if (!isResources(nodeResources)) throw new ManagerError('Invalid', `cluster '${name}': sim manager needs config.nodeResources, e.g. {cpus: 8, memory: 16384}`);
      const cfg: SimManagerConfig = { name, nodes, nodeResources, defaultDurationSeconds: optNumber(name, config, 'defaultDurationSeconds') };
      if (options.clock) cfg.clock = options.clock;
      return new SimManager(cfg);
    }
    case 'slurm': {
      const iface = optString(name, config, 'interface') ?? 'cli';
      if (iface !== 'cli' && iface !== 'rest') throw new ManagerError('Invalid', `cluster '${name}': config.interface must be 'cli' or 'rest'`);
      const env = config.env;
      if (env !== undefined && env !== null && !(typeof env === 'object' && Object.values(env).every((v) => typeof v === 'string'))) {
        throw new ManagerError('Invalid', `cluster '${name}': config.env must map names to strings`);
      }
      const cfg: SlurmManagerConfig = {
        name,
        // With the name, marks this cluster's Slurm jobs: two SkyShift clusters on one Slurm never touch each other's.
        clusterUid: cluster.metadata.uid,
        interface: iface,
        host: optString(name, config, 'host'),
        user: optString(name, config, 'user'),
        sshKey: optString(name, config, 'sshKey'),
        port: optNumber(name, config, 'port'),
        knownHostsFile: optString(name, config, 'knownHostsFile'),
        url: optString(name, config, 'url'),
        tokenFile: optString(name, config, 'tokenFile'),
        workdir: optString(name, config, 'workdir'),
        partition: optString(name, config, 'partition'),
        env: (env ?? undefined) as Record<string, string> | undefined,
        runtime: optString(name, config, 'runtime') as SlurmManagerConfig['runtime'],
      };
      return new SlurmManager(cfg);
    }
    case 'kubernetes':
    case 'k8':
    case 'k8s':
    case 'ray':
      throw new ManagerError('Invalid', `cluster '${name}': manager '${manager}' is not available yet`);
    default:
      throw new ManagerError('Invalid', `cluster '${name}': unknown manager '${manager}' (supported: local, sim, slurm)`);
  }
}

function optNumber(cluster: string, config: Record<string, unknown>, key: string): number | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ManagerError('Invalid', `cluster '${cluster}': config.${key} must be a number`);
  return v;
}

/** A number, or a quantity string such as '2Gi' / '500m' parsed by `parse`; errors name the cluster. */
function optQuantity(cluster: string, config: Record<string, unknown>, key: string, parse: (v: number | string, field: string) => number): number | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' && typeof v !== 'string') throw new ManagerError('Invalid', `cluster '${cluster}': config.${key} must be a number or a quantity like 2Gi`);
  try {
    return parse(v, `config.${key}`);
  } catch (err) {
    throw new ManagerError('Invalid', `cluster '${cluster}': ${(err as Error).message}`);
  }
}

function optString(cluster: string, config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ManagerError('Invalid', `cluster '${cluster}': config.${key} must be a string`);
  return v;
}

function isResources(v: unknown): v is Resources {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number');
}
