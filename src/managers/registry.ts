/**
 * The one list of cluster managers this build runs (DESIGN section 8). The
 * API server validates `spec.config` against their schemas (wired by src/bin),
 * `createManager` builds them, docs/managers.md is checked against the list.
 * Adding a manager: a folder exporting a registration, and one line here.
 */
import { MANAGERS, MANAGER_ALIASES, type Cluster, type ManagerType } from '../api/index.js';
import type { TSchema } from 'typebox';
import { checkConfig } from './config-schema.js';
import { ManagerError } from './errors.js';
import { kubernetesManager } from './kubernetes/index.js';
import { localManager } from './local/index.js';
import type { CreateManagerOptions, ManagerRegistration } from './registration.js';
import { simManager } from './sim/index.js';
import { slurmManager } from './slurm/index.js';
import type { ClusterManager } from './types.js';

export const MANAGER_REGISTRY: readonly ManagerRegistration[] = [localManager, slurmManager, kubernetesManager, simManager];

/** The registration for a manager name or alias (any case); undefined when this build has none. */
export function findManager(name: string): ManagerRegistration | undefined {
  const type = MANAGER_ALIASES[name.toLowerCase()] ?? name;
  return MANAGER_REGISTRY.find((m) => m.type === type);
}

/** Names the API knows but this build cannot run yet (kubernetes, ray). */
export function unavailableManagers(): ManagerType[] {
  return MANAGERS.filter((type) => !findManager(type));
}

/** Config schema per registered manager: what src/bin hands to the API's registerClusterConfigSchemas. */
export function clusterConfigSchemas(): Partial<Record<ManagerType, TSchema>> {
  return Object.fromEntries(MANAGER_REGISTRY.map((m) => [m.type, m.configSchema]));
}

/** The part of a Cluster a manager is built from; a stored Cluster is one. */
export interface ClusterRef {
  metadata: Pick<Cluster['metadata'], 'name' | 'uid'>;
  spec: { manager: string; config?: Cluster['spec']['config'] };
}

/** Build the manager for a cluster; throws ManagerError (naming the cluster) for unknown or not yet available managers and bad config. */
export function createManager(cluster: ClusterRef, options: Omit<CreateManagerOptions, 'uid'> = {}): ClusterManager {
  const name = cluster.metadata.name;
  const manager = cluster.spec.manager;
  const registration = findManager(manager);
  if (!registration) {
    const known = MANAGER_ALIASES[manager.toLowerCase()];
    if (known) throw new ManagerError('Invalid', `cluster '${name}': manager '${manager}' is not available yet`);
    throw new ManagerError('Invalid', `cluster '${name}': unknown manager '${manager}' (supported: ${MANAGER_REGISTRY.map((m) => m.type).join(', ')})`);
  }
  const config = cluster.spec.config ?? {};
  checkConfig(name, registration.configSchema, config);
  return registration.create(name, config, { ...options, ...(cluster.metadata.uid !== undefined ? { uid: cluster.metadata.uid } : {}) });
}
