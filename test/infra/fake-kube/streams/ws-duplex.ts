/**
 * A byte stream over a WebSocket, as client-go's TunnelingConnection sees one: each write is one binary message, reads
 * are the concatenated message payloads. Backpressure both ways: writes complete when ws has flushed them, and the
 * socket is paused while the reader is behind.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export function webSocketDuplex(ws: WebSocket): Duplex {
  const duplex = new Duplex({
    allowHalfOpen: false,
    read() {
      ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb(new Error('websocket closed'));
      ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
    },
    final(cb) {
      if (ws.readyState === ws.OPEN) ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
      cb(err);
    },
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!duplex.push(buf)) ws.pause();
  });
  ws.on('error', () => ws.terminate());
  ws.once('close', () => {
    duplex.push(null);
    duplex.destroy();
  });
  return duplex;
}
