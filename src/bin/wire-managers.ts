/**
 * What an API server gets from the cluster managers: each Cluster's
 * `spec.config` validated against its manager's schema (src/api takes the
 * schemas through a hook, never importing src/managers), and job logs, exec
 * and port-forward reached through the managers of the clusters a job runs
 * on (one manager per cluster, shared by all three).
 */
import { registerClusterConfigSchemas, resolveKind, storageKey } from '../api/index.js';
import { clusterConfigSchemas, createJobLogs, createJobStreams, createManagerCache, type JobLogs, type JobStreams } from '../managers/index.js';
import type { Store } from '../store/index.js';

export function wireManagers(store: Pick<Store, 'get'>): { logs: JobLogs; streams: JobStreams } {
  registerClusterConfigSchemas(clusterConfigSchemas());
  const clusters = resolveKind('cluster');
  if (!clusters) throw new Error('cluster kind missing');
  // Cluster objects straight from the server's own store.
  const managers = createManagerCache({ getCluster: async (name) => (await store.get(storageKey(clusters, undefined, name)))?.value });
  return { logs: createJobLogs({ managers }), streams: createJobStreams({ managers }) };
}
