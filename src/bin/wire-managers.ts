/**
 * What an API server gets from the cluster managers: each Cluster's
 * `spec.config` validated against its manager's schema (src/api takes the
 * schemas through a hook, never importing src/managers), and job logs, exec
 * and port-forward reached through the managers of the clusters a job runs
 * on (one manager per cluster, shared by all three). An agent cluster
 * (`spec.agent: true`) is reached through its agent's tunnel instead: the
 * registry of live tunnels goes to the server too, whose /agent/tunnel fills it.
 */
import { registerClusterConfigSchemas, resolveKind, storageKey } from '../api/index.js';
import {
  clusterConfigSchemas,
  createJobLogs,
  createJobStreams,
  createManager,
  createManagerCache,
  type ClusterRef,
  type JobLogs,
  type JobStreams,
  type ManagerCache,
} from '../managers/index.js';
import { notConnected, TunnelManager } from '../managers/tunnel/index.js';
import { AgentTunnels } from '../server/agent-tunnel.js';
import type { Store } from '../store/index.js';

export function wireManagers(store: Pick<Store, 'get'>): { logs: JobLogs; streams: JobStreams; agentTunnels: AgentTunnels } {
  registerClusterConfigSchemas(clusterConfigSchemas());
  const clusters = resolveKind('cluster');
  if (!clusters) throw new Error('cluster kind missing');
  const agentTunnels = new AgentTunnels();
  const cache = createManagerCache({
    // Cluster objects straight from the server's own store.
    getCluster: async (name) => (await store.get(storageKey(clusters, undefined, name)))?.value,
    managerFactory: (cluster: ClusterRef) =>
      isAgent(cluster) ? new TunnelManager(cluster.metadata.name, () => agentTunnels.get(cluster.metadata.name)) : createManager(cluster),
  });
  // An agent cluster whose agent is away is a 503 before any stream starts (logs included), not text inside one.
  const managers: ManagerCache = async (name) => {
    const manager = await cache(name);
    if (manager instanceof TunnelManager && !manager.connected) throw notConnected(name);
    return manager;
  };
  return { logs: createJobLogs({ managers }), streams: createJobStreams({ managers }), agentTunnels };
}

function isAgent(cluster: ClusterRef): boolean {
  return (cluster.spec as { agent?: unknown }).agent === true;
}
