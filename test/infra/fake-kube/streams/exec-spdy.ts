/**
 * pods/{name}/exec over a plain `Upgrade: SPDY/3.1` request (kubectl before 1.30, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=
 * false): the remotecommand protocols v1-v4 of the kubelet's httpstream server. The client opens one stream per
 * streamType (error, stdin, stdout, stderr; resize with a tty from v3); once all the options call for are there the
 * command runs; at its end the Status goes on the error stream (v4: JSON; older: the failure's text) and every stream
 * the server writes is ended. The client closes the connection once it has read them.
 */
import type { Duplex } from 'node:stream';
import type { SpdyStream } from 'spdy-transport';
import { parseResize, type ExecOptions } from './exec-options.js';
import { startExecSession, type ExecSession } from './exec-session.js';
import { serveSpdy } from './spdy-session.js';
import type { StreamPod } from './types.js';

/** In the kubelet's order of preference; the client's first one the server knows is taken. */
export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

const STREAM_TIMEOUT_MS = 30_000;
/** After the Status, a client that never closes is cut off. */
const LINGER_MS = 10_000;
const MAX_RESIZE_BUFFER = 4096;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

export function serveExecSpdy(socket: Duplex, protocol: string, pod: StreamPod, opts: ExecOptions, stillRunning: () => boolean): void {
  const expected = new Set<StreamType>(['error']);
  if (opts.stdin) expected.add('stdin');
  if (opts.stdout) expected.add('stdout');
  if (opts.stderr) expected.add('stderr');
  if (opts.tty && (protocol === 'v3.channel.k8s.io' || protocol === 'v4.channel.k8s.io')) expected.add('resize');
  const streams = new Map<StreamType, SpdyStream>();
  let session: ExecSession | undefined;
  let finished = false;
  const timer = setTimeout(() => socket.destroy(), STREAM_TIMEOUT_MS);

  serveSpdy(socket, {
    accept: (stream) => expected.has(stream.headers.streamtype as StreamType) && !streams.has(stream.headers.streamtype as StreamType),
    handle(stream) {
      streams.set(stream.headers.streamtype as StreamType, stream);
      if (streams.size === expected.size) start();
    },
    closed() {
      clearTimeout(timer);
      if (!finished) session?.abort();
    },
  });

  function start(): void {
    clearTimeout(timer);
    const out = { 1: streams.get('stdout'), 2: streams.get('stderr') } as const;
    const full = new Set<SpdyStream>();
    session = startExecSession(
      pod,
      opts,
      {
        output(channel, data) {
          const stream = out[channel];
          if (!stream || stream.write(data)) return true;
          full.add(stream);
          return false;
        },
        // Whichever output stream said it was full; the other may never drain, having nothing queued.
        drained: () => Promise.all([...full].map((s) => new Promise((resolve) => s.once('drain', resolve)))).then(() => full.clear()),
        pauseInput: () => streams.get('stdin')?.pause(),
        resumeInput: () => streams.get('stdin')?.resume(),
        finish(status) {
          finished = true;
          const error = streams.get('error')!;
          if (protocol === 'v4.channel.k8s.io') error.write(JSON.stringify(status));
          else if (status.status === 'Failure') error.write(status.message ?? '');
          for (const s of [out[1], out[2], error]) s?.end();
          setTimeout(() => socket.destroy(), LINGER_MS).unref();
        },
      },
      stillRunning,
    );
    const stdin = streams.get('stdin');
    stdin?.on('data', (d: Buffer) => session?.input(d));
    stdin?.on('end', () => session?.endInput());
    streams.get('error')?.resume();
    let resize = '';
    streams.get('resize')?.on('data', (d: Buffer) => {
      // A stream of JSON objects ({"Width":..,"Height":..}), one after another.
      resize += d.toString('utf8');
      let end: number;
      while ((end = resize.indexOf('}')) >= 0) {
        const size = parseResize(Buffer.from(resize.slice(0, end + 1)));
        resize = resize.slice(end + 1);
        if (size) session?.resize(size.cols, size.rows);
      }
      if (resize.length > MAX_RESIZE_BUFFER) resize = '';
    });
  }
}
