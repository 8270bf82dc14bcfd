/**
 * The agent's side of tunnel streams: each stream the API server opens is a
 * request (src/managers/tunnel/protocol.ts) served with the agent's own
 * cluster manager — its logs, exec and port-forward capabilities — exactly as
 * the server would call them for a cluster it reaches itself. A failure
 * resets the stream with the manager's reason, so the user gets the same
 * Status (404, 409, 501...) as for any other cluster.
 */
import { ApiError } from '../../api/index.js';
import { capability, type ClusterManager } from '../../managers/index.js';
import { CHANNEL, encodeControl, parseControl, parseTunnelRequest, type TunnelRequest } from '../../managers/tunnel/index.js';
import type { MuxStream } from './stream.js';

/** After a command exits, how long its output may still drain (a background child can hold the pipes open). */
const DRAIN_AFTER_EXIT_MS = 2_000;

/** Serves one stream; never throws (failures reset the stream). */
export function serveStream(manager: ClusterManager, cluster: string, stream: MuxStream): void {
  const request = parseTunnelRequest(stream.request);
  if (typeof request === 'string') return stream.reset('BadRequest', request);
  const served =
    request.op === 'logs'
      ? serveLogs(manager, request, stream)
      : request.op === 'exec'
        ? serveExec(manager, cluster, request, stream)
        : serveForward(manager, cluster, request, stream);
  served.catch((err: unknown) => {
    if (err instanceof ApiError) stream.reset(err.reason, err.message);
    else stream.reset('ServiceUnavailable', `cluster '${cluster}': ${err instanceof Error ? err.message : String(err)}`);
  });
}

async function serveLogs(manager: ClusterManager, request: TunnelRequest & { op: 'logs' }, stream: MuxStream): Promise<void> {
  const lines = manager.logs(request.job, {
    follow: request.follow,
    ...(request.tail !== undefined ? { tail: request.tail } : {}),
    ...(request.task ? { task: request.task } : {}),
    signal: stream.signal,
  });
  for await (const line of lines) {
    if (stream.finished) return;
    // Whole lines, so the server never has to guess where one ends; write() waits for credit (a slow reader slows the log read).
    await stream.write(Buffer.from(line.endsWith('\n') ? line : line + '\n', 'utf8'), CHANNEL.data);
  }
  await stream.close();
}

async function serveExec(manager: ClusterManager, cluster: string, request: TunnelRequest & { op: 'exec' }, stream: MuxStream): Promise<void> {
  const session = await capability(manager, 'exec', cluster).exec(request.job, {
    task: request.task,
    command: request.command,
    tty: request.tty,
    signal: stream.signal,
  });
  await stream.write(encodeControl({ ready: true }), CHANNEL.control);
  const stdin = session.stdin.getWriter();
  stdin.closed.catch(() => undefined);
  const endStdin = () => void stdin.close().catch(() => undefined);
  // Input and control: a stdin write is awaited before the next message is read, so a command that does not read holds back the sender.
  void (async () => {
    try {
      for (let m = await stream.read(); m; m = await stream.read()) {
        if (m.channel === CHANNEL.data) await stdin.write(m.data).catch(() => undefined);
        else if (m.channel === CHANNEL.control) {
          const c = parseControl(m.data);
          if (c && 'stdinEnd' in c) endStdin();
          else if (c && 'resize' in c) session.resize?.(c.resize.columns, c.resize.rows);
        }
      }
    } catch {
      // Reset: the command is killed through stream.signal.
    }
    endStdin();
  })();
  const pumps = Promise.all([copy(session.stdout, stream, CHANNEL.data), copy(session.stderr, stream, CHANNEL.stderr)]);
  const code = await session.exitCode;
  await Promise.race([pumps, new Promise((resolve) => setTimeout(resolve, DRAIN_AFTER_EXIT_MS).unref())]);
  if (stream.finished) return;
  await stream.write(encodeControl({ exitCode: code }), CHANNEL.control);
  await stream.close();
}

async function serveForward(manager: ClusterManager, cluster: string, request: TunnelRequest & { op: 'portForward' }, stream: MuxStream): Promise<void> {
  const conn = await capability(manager, 'portForward', cluster).portForward(request.job, { task: request.task, port: request.port, signal: stream.signal });
  await stream.write(encodeControl({ ready: true }), CHANNEL.control);
  const writer = conn.writable.getWriter();
  writer.closed.catch(() => undefined);
  stream.signal.addEventListener('abort', () => void writer.abort().catch(() => undefined), { once: true });
  const inbound = (async () => {
    for (let m = await stream.read(); m; m = await stream.read()) if (m.channel === CHANNEL.data) await writer.write(m.data);
    // The server's client half-closed: so does the connection to the task.
    await writer.close();
  })();
  const outbound = (async () => {
    await copy(conn.readable, stream, CHANNEL.data);
    await stream.close();
  })();
  await Promise.all([inbound, outbound]);
}

/** Copies a byte stream into the tunnel stream, waiting for credit; stops (cancelling the source) when the stream fails. Never rejects. */
async function copy(source: ReadableStream<Uint8Array>, stream: MuxStream, channel: number): Promise<void> {
  const reader = source.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  stream.signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || stream.finished) return;
      await stream.write(value, channel);
    }
  } catch {
    // The source failed or the stream was reset: nothing more to copy (the caller decides how the stream ends).
  } finally {
    stream.signal.removeEventListener('abort', stop);
  }
}
