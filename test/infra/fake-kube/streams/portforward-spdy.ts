/**
 * kubectl's port-forward on a SPDY session (./spdy-session), carried by a WebSocket tunnel (subprotocol
 * SPDY/3.1+portforward.k8s.io, kubectl >= 1.31) or a plain `Upgrade: SPDY/3.1` request. Per local connection kubectl
 * opens an error stream and a data stream sharing a requestID and a port header (kubelet's httpStreamHandler); the
 * data stream is piped to podIP:port, the error stream carries the kubelet's message when that fails and is ended when
 * the forward is done.
 */
import type { Duplex } from 'node:stream';
import type { SpdyStream } from 'spdy-transport';
import { dialPod } from './pod-dial.js';
import { serveSpdy } from './spdy-session.js';

export const PORTFORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';
export const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** The kubelet's streamCreationTimeout: a pair must be complete within it. */
const PAIR_TIMEOUT_MS = 30_000;
/** Half-made pairs a session may hold at once (each waits for its partner). */
const MAX_PENDING_PAIRS = 256;

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

const streamType = (s: SpdyStream) => s.headers.streamtype;
const streamPort = (s: SpdyStream) => Number(s.headers.port);

/** Serves one SPDY port-forward session on `socket` until either side closes it. */
export function servePortForwardSpdy(socket: Duplex, target: SpdyTarget): void {
  const pairs = new Map<string, Pair>();
  serveSpdy(socket, {
    accept(stream) {
      const type = streamType(stream);
      const port = streamPort(stream);
      const id = stream.headers.requestid ?? '';
      if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535 || id.length > 64) return false;
      const pair = pairs.get(id);
      return pair ? !pair[type] : pairs.size < MAX_PENDING_PAIRS;
    },
    handle(stream) {
      const id = stream.headers.requestid ?? '';
      let pair = pairs.get(id);
      if (!pair) {
        pair = { port: streamPort(stream), timer: setTimeout(() => expire(id), PAIR_TIMEOUT_MS) };
        pairs.set(id, pair);
      }
      pair[streamType(stream) as 'data' | 'error'] = stream;
      if (pair.data && pair.error) {
        clearTimeout(pair.timer);
        pairs.delete(id);
        void forward(pair.data, pair.error, pair.port);
      }
    },
    closed() {
      for (const p of pairs.values()) clearTimeout(p.timer);
      pairs.clear();
    },
  });

  function expire(id: string): void {
    const pair = pairs.get(id);
    if (!pair) return;
    pairs.delete(id);
    pair.error?.end('timed out waiting for streams');
    pair.data?.destroy();
  }

  async function forward(data: SpdyStream, error: SpdyStream, port: number): Promise<void> {
    // kubectl half-closes its error stream at once and only reads it; drain it so it can end.
    error.resume();
    const dialed = target.running
      ? await dialPod(target.podIP, target.podName, target.uid, port)
      : { error: `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: pod not found ("${target.podName}")` };
    if ('error' in dialed) {
      error.end(dialed.error);
      data.end();
      return;
    }
    const tcp = dialed.socket;
    tcp.on('error', () => tcp.destroy());
    tcp.once('close', () => {
      if (!data.writableEnded) data.end();
      if (!error.writableEnded) error.end();
    });
    data.once('close', () => tcp.destroy());
    // Half-close both ways: kubectl's FIN on data ends the TCP write side; the pod's FIN ends the data stream.
    data.pipe(tcp);
    tcp.pipe(data);
  }
}
