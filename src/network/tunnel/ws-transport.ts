/**
 * A Mux over a `ws` WebSocket (either end): one binary message per frame, and
 * a keepalive so a silent peer (a cut link sends nothing, not even a FIN) is
 * noticed within two ping intervals rather than at the next TCP timeout.
 */
import type { WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from './frames.js';
import { Mux, type MuxOptions } from './mux.js';

/** What WebSocket servers and clients of the tunnel set as maxPayload. */
export const TUNNEL_MAX_PAYLOAD = MAX_FRAME_BYTES;
export const DEFAULT_PING_MS = 15_000;

export interface WebSocketMuxOptions extends MuxOptions {
  /** Ping interval; the tunnel ends when nothing came from the peer for two of them (default 15 s; 0 = off). */
  pingMs?: number;
}

export function muxOverWebSocket(ws: WebSocket, options: WebSocketMuxOptions): Mux {
  const mux = new Mux(
    {
      send: (frame) => ws.send(frame, { binary: true }),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      close: (reason) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, reason.slice(0, 120));
        // A peer that does not answer the close frame is cut.
        setTimeout(() => ws.terminate(), 1_000).unref();
      },
    },
    options,
  );
  let heard = true;
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    heard = true;
    if (!isBinary) return mux.terminate('tunnel protocol error: text message');
    mux.receive(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
  });
  ws.on('pong', () => (heard = true));
  ws.on('ping', () => (heard = true));
  ws.on('error', () => ws.terminate());
  ws.once('close', (code: number, reason: Buffer) => mux.terminate(`agent tunnel closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
  const pingMs = options.pingMs ?? DEFAULT_PING_MS;
  if (pingMs > 0) {
    const timer = setInterval(() => {
      if (!heard) {
        mux.terminate(`agent tunnel peer silent for ${(2 * pingMs) / 1000} s`);
        ws.terminate();
        return;
      }
      heard = false;
      if (ws.readyState === ws.OPEN) ws.ping();
    }, pingMs);
    timer.unref();
    mux.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }
  return mux;
}
