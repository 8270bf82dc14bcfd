/** Skylets: one per cluster (heartbeat, flow, job sync) and the cluster lifecycle controller that runs them. */
export { Skylet, type SkyletDeps } from './skylet.js';
export { ClusterController } from './clusters.js';
