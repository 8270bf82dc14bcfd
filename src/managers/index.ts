/**
 * Public face of src/managers: the ClusterManager contract and its optional
 * capabilities, the registry of managers (one folder each: local/, slurm/,
 * sim/) with the factory the controllers use to build one from a Cluster, and
 * the logs fan-out the API server streams from.
 */
export * from './types.js';
export * from './capabilities.js';
export { ManagerError } from './errors.js';
export type { CreateManagerOptions, ManagerRegistration } from './registration.js';
export { MANAGER_REGISTRY, clusterConfigSchemas, createManager, findManager, unavailableManagers, type ClusterRef } from './registry.js';
export { createJobLogs, type JobLogOptions, type JobLogs, type JobLogsOptions } from './logs.js';
export { createManagerCache, type ManagerCache } from './manager-cache.js';
export { createJobStreams, type JobStreams, type StreamTarget } from './streams.js';
export { LocalManager, type LocalManagerConfig, DirLockedError, lockDirectory, lockHolder, type LockHolder } from './local/index.js';
export { SimManager, type SimManagerConfig } from './sim/index.js';
export { SlurmManager, type SlurmManagerConfig } from './slurm/index.js';
export { KubernetesManager, type KubernetesManagerConfig, kubeconfigContexts, defaultKubeconfigPaths } from './kubernetes/index.js';
