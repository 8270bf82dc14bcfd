/**
 * The agent tunnel (DESIGN section 12): one multiplexed WebSocket the agent
 * keeps open to the API server, carrying logs, exec and port-forward streams
 * with per-stream flow control.
 */
export {
  connectTunnel,
  tunnelUrl,
  type AgentTunnel,
  type ConnectTunnelOptions,
  type TunnelEvent,
  type TunnelLogger,
  type TunnelTlsOptions,
} from './connect.js';
export { Mux, DEFAULT_MAX_STREAMS, DEFAULT_WINDOW_BYTES, type FrameTransport, type MuxOptions } from './mux.js';
export { MuxStream, type Message } from './stream.js';
export { MAX_DATA_BYTES, MAX_FRAME_BYTES, ProtocolError } from './frames.js';
export { muxOverWebSocket, TUNNEL_MAX_PAYLOAD, DEFAULT_PING_MS, type WebSocketMuxOptions } from './ws-transport.js';
export { serveStream } from './serve.js';
