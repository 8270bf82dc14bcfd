/**
 * Streaming endpoints of the FAKE Kubernetes API server: pods/{name}/exec and pods/{name}/portforward.
 * Stub until the WebSocket (v5.channel.k8s.io) and SPDY-over-WebSocket implementations land.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StreamDeps } from './types.js';

export type { StreamDeps, StreamPod } from './types.js';

const STREAM_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(exec|attach|portforward)(\?|$)/;

/** Handles an HTTP upgrade for exec/port-forward; returns false when the path is not a stream path (the caller answers). */
export function handleStreamUpgrade(req: IncomingMessage, socket: Duplex, _head: Buffer, _deps: StreamDeps): boolean {
  if (!STREAM_PATH.test(req.url ?? '')) return false;
  socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  return true;
}

/** A plain (non-upgrade) request to a stream path: answered as the real server does. Returns false for other paths. */
export function handleStreamRequest(req: IncomingMessage, res: ServerResponse, _deps: StreamDeps): boolean {
  if (!STREAM_PATH.test(req.url ?? '')) return false;
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Upgrade request required',
    reason: 'BadRequest',
    code: 400,
  });
  res.writeHead(400, { 'content-type': 'application/json' }).end(body);
  return true;
}
