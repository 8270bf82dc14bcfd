/** The client as a browser uses it (the dashboard): over fetch, with the page's TLS trust. */
import { RestClient, type ClientOptions } from './client.js';
import { FetchTransport } from './fetch-transport.js';
import type { Transport } from './transport.js';

export interface BrowserClientOptions extends ClientOptions {
  /** Default: a FetchTransport for `server`. */
  transport?: Transport;
}

export class SkyShiftClient extends RestClient {
  constructor(options: BrowserClientOptions) {
    super(options, options.transport ?? new FetchTransport(options.server));
  }
}
