/** The client as Node programs use it (CLI, controllers, agents): over node:http with keep-alive pools. */
import { RestClient, type ClientOptions } from './client.js';
import { NodeTransport, type TlsOptions } from './node-transport.js';
import type { Transport } from './transport.js';

export interface NodeClientOptions extends ClientOptions {
  /** HTTPS with a private CA or an explicitly unverified certificate. */
  tls?: TlsOptions;
  /** Concurrent connections for JSON calls (default 64); watches and log streams are not counted. */
  maxSockets?: number;
  /** Another transport (e.g. FetchTransport); `tls` and `maxSockets` then do not apply. */
  transport?: Transport;
}

export class SkyShiftClient extends RestClient {
  constructor(options: NodeClientOptions) {
    const { tls, maxSockets } = options;
    // As kubectl: a server's Warning goes to stderr unless the program handles it.
    const onWarning = options.onWarning ?? ((text: string) => void process.stderr.write(`Warning: ${text}\n`));
    super({ ...options, onWarning }, options.transport ?? new NodeTransport(options.server, { tls, maxSockets }));
  }
}
