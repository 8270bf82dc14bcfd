/**
 * What an API server gets from the cluster managers: each Cluster's
 * `spec.config` validated against its manager's schema (src/api takes the
 * schemas through a hook, never importing src/managers), and job logs read
 * through the managers of the clusters a job runs on.
 */
import { registerClusterConfigSchemas, resolveKind, storageKey } from '../api/index.js';
import { clusterConfigSchemas, createJobLogs, type JobLogs } from '../managers/index.js';
import type { Store } from '../store/index.js';

export function wireManagers(store: Pick<Store, 'get'>): { logs: JobLogs } {
  registerClusterConfigSchemas(clusterConfigSchemas());
  const clusters = resolveKind('cluster');
  if (!clusters) throw new Error('cluster kind missing');
  // Cluster objects straight from the server's own store.
  return { logs: createJobLogs({ getCluster: async (name) => (await store.get(storageKey(clusters, undefined, name)))?.value }) };
}
