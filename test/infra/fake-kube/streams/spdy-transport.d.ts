/** The part of spdy-transport 3 (no typings of its own) the fake's SPDY port-forward uses. */
declare module 'spdy-transport' {
  import type { EventEmitter } from 'node:events';
  import type { Duplex } from 'node:stream';

  export interface SpdyStream extends Duplex {
    readonly id: number;
    /** The SYN_STREAM's headers, lower-cased names. */
    readonly headers: Record<string, string>;
    respond(status: number, headers: Record<string, string>, callback?: (err?: Error) => void): void;
    abort(code?: string, callback?: () => void): void;
    _spdyState: { window: { send: { current: number; max: number; limit: number } } };
  }

  export type HeadersCallback = (err: Error | null, headers: Record<string, string>) => void;

  export interface SpdyConnection extends EventEmitter {
    _spdyState: { parser: { parseKVs(body: unknown, callback: HeadersCallback): void } };
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error' | 'close', listener: (err?: Error) => void): this;
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
  }

  const transport: {
    connection: {
      create(socket: Duplex, options: { protocol: 'spdy' | 'http2'; isServer: boolean; maxStreams?: number; windowSize?: number }): SpdyConnection;
    };
  };
  export default transport;
}
