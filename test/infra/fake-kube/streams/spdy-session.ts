/**
 * A SPDY/3.1 server session for client-go's SPDY client (moby/spdystream), on spdy-transport over any byte stream (a
 * WebSocket tunnel or an upgraded socket). Two adaptations make spdy-transport, an HTTP-over-SPDY server, serve it:
 * bare streams (no :method/:path) are accepted, and the send window never runs out (spdystream sends no WINDOW_UPDATE).
 * Every accepted stream gets its SYN_REPLY before the handler sees it, since spdystream drops data on unreplied streams.
 */
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';

const MAX_STREAMS = 1000;
const UNLIMITED_WINDOW = Number.MAX_SAFE_INTEGER;

export interface SpdyHandlers {
  /** Whether to take `stream` (headers checked); a refused stream is reset, as the kubelet resets one it cannot place. */
  accept(stream: SpdyStream): boolean;
  /** An accepted stream, already replied to. */
  handle(stream: SpdyStream): void;
  /** The session is over (either side closed it). */
  closed(): void;
}

function acceptBareStreams(conn: SpdyConnection): void {
  const parser = conn._spdyState.parser;
  const parseKVs = parser.parseKVs.bind(parser);
  parser.parseKVs = (body, callback) => parseKVs(body, (err, headers) => callback(err, err ? headers : { ':method': 'POST', ':path': '/', ...headers }));
}

function unlimitSend(stream: SpdyStream): void {
  const send = stream._spdyState.window.send;
  send.current = UNLIMITED_WINDOW;
  send.max = UNLIMITED_WINDOW;
  send.limit = UNLIMITED_WINDOW;
}

export function serveSpdy(socket: Duplex, handlers: SpdyHandlers): SpdyConnection {
  const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: true, maxStreams: MAX_STREAMS });
  acceptBareStreams(conn);
  const open = new Set<SpdyStream>();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const s of open) s.destroy();
    socket.destroy();
    handlers.closed();
  };
  conn.on('error', close);
  conn.on('close', close);
  socket.on('close', close);
  conn.on('stream', (stream) => {
    if (closed || !handlers.accept(stream)) {
      stream.abort();
      return;
    }
    stream.on('error', () => stream.destroy());
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    unlimitSend(stream);
    stream.respond(200, {});
    handlers.handle(stream);
  });
  return conn;
}
