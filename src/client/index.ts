/**
 * Public face of src/client for Node: the typed REST client over node:http,
 * watch reader and informer. Also re-exports the API vocabulary the CLI and
 * controllers need, so they can see the world through this module alone.
 * Browsers import browser.ts, which offers the same over fetch.
 */
export * from './public.js';
export { SkyShiftClient, type NodeClientOptions } from './node-client.js';
export { NodeTransport, type NodeTransportOptions, type TlsOptions } from './node-transport.js';
export {
  openExec,
  openPortForward,
  type ExecConnection,
  type ExecOutput,
  type ExecRequest,
  type PortForwardRequest,
  type StreamConnection,
} from './streams.js';
