/**
 * GET /{namespace}/jobs/{name}/portforward?port=P over WebSocket: one
 * WebSocket is one TCP connection to the task's port, its binary messages
 * the raw bytes each way (no channel byte; unlike Kubernetes' multi-port
 * framing, a client opens one WebSocket per accepted local connection).
 * Either side closing ends both; connection failures are refused before the
 * upgrade (503 naming the task and port).
 */
import type { WebSocket } from 'ws';
import type { StreamsProvider } from '../context.js';
import type { Prepared } from './exec.js';
import type { PortForwardParams } from './params.js';
import { closeSoon } from './upgrade.js';
import { startStream, streamAbort } from './session-abort.js';

const HIGH_WATER_BYTES = 1024 * 1024;

export async function preparePortForward(
  provider: StreamsProvider,
  job: Parameters<StreamsProvider['portForward']>[0],
  params: PortForwardParams,
  serverSignal: AbortSignal,
): Promise<Prepared> {
  const abort = streamAbort(serverSignal);
  const { target, stream } = await startStream(
    abort,
    'port-forward',
    provider.portForward(job, { ...(params.task ? { task: params.task } : {}), port: params.port, signal: abort.signal }),
  );
  return { target, run: (ws) => void runForward(ws, stream, abort), abort: () => abort.abort() };
}

async function runForward(
  ws: WebSocket,
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  abort: AbortController,
): Promise<void> {
  ws.once('close', () => abort.abort());
  const writer = stream.writable.getWriter();
  writer.closed.catch(() => undefined);
  const reader = stream.readable.getReader();
  abort.signal.addEventListener('abort', () => {
    void reader.cancel().catch(() => undefined);
    void writer.abort().catch(() => undefined);
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (msg.length === 0 || abort.signal.aborted) return;
    // A Buffer is a Uint8Array: no copy (new Uint8Array(buffer) would copy every message).
    writer.write(msg).catch(() => abort.abort());
    if ((writer.desiredSize ?? 1) <= 0) {
      ws.pause();
      void writer.ready.then(
        () => ws.resume(),
        () => ws.resume(),
      );
    }
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || ws.readyState !== ws.OPEN) break;
      const sent = new Promise<void>((resolve) => ws.send(value, { binary: true }, () => resolve()));
      if (ws.bufferedAmount > HIGH_WATER_BYTES) await sent;
    }
  } catch {
    // The connection was reset or cancelled: close below.
  }
  // The task's side ended the connection: so does the WebSocket.
  closeSoon(ws, 1000, '');
  abort.abort();
}
