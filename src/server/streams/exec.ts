/**
 * GET /{namespace}/jobs/{name}/exec over WebSocket, in the Kubernetes
 * v5.channel.k8s.io framing (kubectl, client-go and the Kubernetes client
 * libraries speak it): every binary message starts with a channel byte.
 *   client -> server: 0 stdin, 4 resize {"Width":W,"Height":H}, 255 close (payload: the channel, 0 = stdin)
 *   server -> client: 1 stdout, 2 stderr, 3 status (a Kubernetes Status with the exit code)
 * The server closes the WebSocket (1000) after the status. The client closing
 * the WebSocket ends the command (its process group is killed).
 */
import type { WebSocket } from 'ws';
import type { ExecStreams, StreamsProvider, StreamTarget } from '../context.js';
import type { ExecParams } from './params.js';
import { closeSoon } from './upgrade.js';
import { startStream, streamAbort } from './session-abort.js';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** Output still buffered for a slow client beyond which reading the command's output waits. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** After the command exits, how long its output may still drain (a background child can hold the pipes open forever). */
const DRAIN_AFTER_EXIT_MS = 2_000;

export interface Prepared {
  target: StreamTarget;
  /** Runs the stream on the accepted WebSocket. */
  run(ws: WebSocket): void;
  /** Gives up before the upgrade (the client went away). */
  abort(): void;
}

export async function prepareExec(
  provider: StreamsProvider,
  job: Parameters<StreamsProvider['exec']>[0],
  params: ExecParams,
  serverSignal: AbortSignal,
): Promise<Prepared> {
  const abort = streamAbort(serverSignal);
  const { target, session } = await startStream(
    abort,
    'exec',
    provider.exec(job, { ...(params.task ? { task: params.task } : {}), command: params.command, tty: params.tty, signal: abort.signal }),
  );
  return { target, run: (ws) => void runExec(ws, session, params, abort), abort: () => abort.abort() };
}

async function runExec(ws: WebSocket, session: ExecStreams, params: ExecParams, abort: AbortController): Promise<void> {
  ws.once('close', () => abort.abort());
  const stdin = session.stdin.getWriter();
  stdin.closed.catch(() => undefined);
  let stdinOpen = params.stdin;
  if (!stdinOpen) void stdin.close().catch(() => undefined);
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (msg.length === 0) return;
    const payload = msg.subarray(1);
    switch (msg[0]) {
      case CHANNEL.stdin:
        if (!stdinOpen || payload.length === 0) return;
        stdin.write(new Uint8Array(payload)).catch(() => (stdinOpen = false));
        // Flow control: stop reading the client while the command does not take its input.
        if ((stdin.desiredSize ?? 1) <= 0) {
          ws.pause();
          void stdin.ready.then(
            () => ws.resume(),
            () => ws.resume(),
          );
        }
        return;
      case CHANNEL.resize:
        resize(session, payload);
        return;
      case CHANNEL.close:
        if (payload[0] === CHANNEL.stdin && stdinOpen) {
          stdinOpen = false;
          void stdin.close().catch(() => undefined);
        }
        return;
      default:
      // Unknown channels are ignored, as the Kubernetes server does.
    }
  });
  const pumps = Promise.all([pump(ws, session.stdout, CHANNEL.stdout, abort.signal), pump(ws, session.stderr, CHANNEL.stderr, abort.signal)]);
  const code = await session.exitCode;
  await Promise.race([pumps, new Promise((r) => setTimeout(r, DRAIN_AFTER_EXIT_MS).unref())]);
  if (ws.readyState !== ws.OPEN) return;
  ws.send(Buffer.concat([Buffer.of(CHANNEL.status), Buffer.from(JSON.stringify(exitStatus(code)))]));
  closeSoon(ws, 1000, '');
  abort.abort();
}

/** Copies one output stream into framed messages, waiting while the client is behind. */
async function pump(ws: WebSocket, stream: ReadableStream<Uint8Array>, channel: number, signal: AbortSignal): Promise<void> {
  const reader = stream.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || ws.readyState !== ws.OPEN) return;
      const sent = new Promise<void>((resolve) => ws.send(Buffer.concat([Buffer.of(channel), value]), () => resolve()));
      if (ws.bufferedAmount > HIGH_WATER_BYTES) await sent;
    }
  } catch {
    // The command's side went away (killed, cancelled): nothing more to copy.
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function resize(session: ExecStreams, payload: Buffer): void {
  if (!session.resize || payload.length > 256) return;
  let size: unknown;
  try {
    size = JSON.parse(payload.toString('utf8'));
  } catch {
    return;
  }
  const { Width, Height } = (size ?? {}) as { Width?: unknown; Height?: unknown };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 10_000;
  if (ok(Width) && ok(Height)) session.resize(Width, Height);
}

/** The status channel's message, as the Kubernetes API server words it. */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}
