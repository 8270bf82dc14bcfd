/**
 * kubectl's port-forward: a SPDY/3.1 session (served by spdy-transport) over any byte stream, which is either a
 * WebSocket tunnel (subprotocol SPDY/3.1+portforward.k8s.io, kubectl >= 1.31) or the socket of a plain
 * `Upgrade: SPDY/3.1` request. Per local connection kubectl opens an error stream and a data stream sharing a
 * requestID and a port header (kubelet's httpStreamHandler); the data stream is piped to podIP:port, the error stream
 * carries the kubelet's message when that fails and is ended when the forward is done.
 */
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import { dialPod } from './pod-dial.js';

export const PORTFORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';
export const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** The kubelet's streamCreationTimeout: a pair must be complete within it. */
const PAIR_TIMEOUT_MS = 30_000;
const MAX_STREAMS = 1000;
/** spdystream (client-go's SPDY) never sends WINDOW_UPDATE, so the send window must never run out. */
const UNLIMITED_WINDOW = Number.MAX_SAFE_INTEGER;

interface Pair {
  port: number;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

export interface SpdyTarget {
  podIP: string;
  podName: string;
  uid: string;
  /** False when the pod is not Running: every forward fails as the kubelet's does for a pod without a sandbox. */
  running: boolean;
}

/**
 * spdy-transport is an HTTP-over-SPDY server: it rejects a SYN_STREAM without :method and :path, which client-go's
 * streams (headers streamType, port, requestID only) never carry. Give every header block those two as defaults.
 */
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

/** Serves one SPDY port-forward session on `socket` until either side closes it. */
export function servePortForwardSpdy(socket: Duplex, target: SpdyTarget): void {
  const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: true, maxStreams: MAX_STREAMS });
  acceptBareStreams(conn);
  const pairs = new Map<string, Pair>();
  const open = new Set<SpdyStream>();

  conn.on('error', () => socket.destroy());
  conn.on('close', () => {
    for (const s of open) s.destroy();
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    socket.destroy();
  });
  socket.on('close', () => conn.destroyStreams());

  conn.on('stream', (stream) => {
    const type = stream.headers.streamtype;
    const port = Number(stream.headers.port);
    const requestID = stream.headers.requestid ?? '';
    // The kubelet rejects (resets) a stream it cannot place.
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535 || requestID.length > 64) {
      stream.abort();
      return;
    }
    stream.on('error', () => stream.destroy());
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    unlimitSend(stream);
    stream.respond(200, {});
    let pair = pairs.get(requestID);
    if (!pair) {
      pair = { port, timer: setTimeout(() => expire(requestID), PAIR_TIMEOUT_MS) };
      pairs.set(requestID, pair);
    }
    if (pair[type]) {
      stream.abort();
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestID);
      void forward(pair.data, pair.error, pair.port);
    }
  });

  function expire(requestID: string): void {
    const pair = pairs.get(requestID);
    if (!pair) return;
    pairs.delete(requestID);
    if (pair.error) pair.error.end(`timed out waiting for streams`);
    pair.data?.destroy();
  }

  async function forward(data: SpdyStream, error: SpdyStream, port: number): Promise<void> {
    // kubectl half-closes its error stream at once and only reads it; drain it so it can end.
    error.resume();
    const dialed = target.running ? await dialPod(target.podIP, target.podName, target.uid, port) : { error: notRunning(target, port) };
    if ('error' in dialed) {
      error.end(dialed.error);
      data.end();
      return;
    }
    const tcp = dialed.socket;
    const done = () => {
      if (!error.writableEnded) error.end();
    };
    tcp.on('error', () => tcp.destroy());
    tcp.once('close', () => {
      if (!data.writableEnded) data.end();
      done();
    });
    data.once('close', () => tcp.destroy());
    // Half-close both ways: kubectl's FIN on data ends the TCP write side; the pod's FIN ends the data stream.
    data.pipe(tcp);
    tcp.pipe(data);
  }
}

function notRunning(target: SpdyTarget, port: number): string {
  return `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: pod not found ("${target.podName}")`;
}
