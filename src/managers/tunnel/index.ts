/**
 * The API server's side of agent clusters: a ClusterManager whose logs, exec
 * and port-forward travel through the agent's tunnel, and the stream protocol
 * the agent side (src/network/tunnel) serves.
 */
export { TunnelManager, notConnected, TUNNEL_LOST_EXIT_CODE } from './manager.js';
export { CHANNEL, encodeControl, parseControl, parseTunnelRequest, type ControlMessage, type TunnelRequest } from './protocol.js';
export { outlet, type Outlet, type TunnelOpener, type TunnelStream } from './outlet.js';
