/**
 * The API server's manager for an agent cluster (`spec.agent: true`): logs,
 * exec and port-forward reach the cluster's replicas through the tunnel its
 * agent keeps open (src/network/tunnel), where the agent's own manager serves
 * them. Everything else a manager does (status, submit, tasks, cancel) runs
 * in the agent's skylet, so here it is an error naming the cluster.
 */
import { ApiError } from '../../api/index.js';
import type { ExecCapability, ExecOptions, ExecSession, PortForwardCapability } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import type { ClusterManager, ClusterState, JobRef, JobTasks, LogOptions } from '../types.js';
import { outlet, type TunnelOpener, type TunnelStream } from './outlet.js';
import { CHANNEL, encodeControl, parseControl, type TunnelRequest } from './protocol.js';

/** How long exec and port-forward wait for the agent to say the command or connection started. */
const READY_TIMEOUT_MS = 30_000;
/** A log line longer than this is passed on in pieces. */
const MAX_LINE_BYTES = 1024 * 1024;
/** The exit code an exec reports when the tunnel ended before the command did (as a shell reports a lost session). */
export const TUNNEL_LOST_EXIT_CODE = 255;

export class TunnelManager implements ClusterManager, ExecCapability, PortForwardCapability {
  readonly type = 'agent';

  constructor(
    readonly cluster: string,
    /** The agent's live tunnel, or undefined while it is not connected. */
    private readonly tunnel: () => TunnelOpener | undefined,
  ) {}

  get connected(): boolean {
    return this.tunnel() !== undefined;
  }

  connect(): Promise<void> {
    return Promise.reject(this.elsewhere('connect'));
  }
  status(): Promise<ClusterState> {
    return Promise.reject(this.elsewhere('status'));
  }
  submit(): Promise<string> {
    return Promise.reject(this.elsewhere('submit'));
  }
  tasks(): Promise<JobTasks[]> {
    return Promise.reject(this.elsewhere('tasks'));
  }
  cancel(): Promise<void> {
    return Promise.reject(this.elsewhere('cancel'));
  }
  async close(): Promise<void> {}

  async *logs(job: JobRef, options: LogOptions): AsyncGenerator<string> {
    const stream = this.open(
      {
        op: 'logs',
        job,
        follow: options.follow === true,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        ...(options.task ? { task: options.task } : {}),
      },
      options.signal,
    );
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for (let m = await stream.read(); m; m = await stream.read()) {
        if (m.channel !== CHANNEL.data) continue;
        pending += decoder.decode(m.data, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          yield pending.slice(0, nl + 1);
          pending = pending.slice(nl + 1);
        }
        if (pending.length > MAX_LINE_BYTES) {
          yield pending;
          pending = '';
        }
      }
      pending += decoder.decode();
      if (pending) yield pending;
    } finally {
      // The consumer stopped early (or the stream failed): the agent stops reading the log.
      if (!stream.finished) stream.reset('ServiceUnavailable', 'log stream cancelled');
    }
  }

  async exec(job: JobRef, options: ExecOptions): Promise<ExecSession> {
    const stream = this.open({ op: 'exec', job, task: options.task, command: options.command, tty: options.tty === true }, options.signal);
    await ready(stream, this.cluster);
    const stdout = outlet();
    const stderr = outlet();
    let resolveExit!: (code: number) => void;
    const exitCode = new Promise<number>((resolve) => (resolveExit = resolve));
    void (async () => {
      let code = TUNNEL_LOST_EXIT_CODE;
      try {
        for (let m = await stream.read(); m; m = await stream.read()) {
          if (m.channel === CHANNEL.data) await stdout.push(m.data);
          else if (m.channel === CHANNEL.stderr) await stderr.push(m.data);
          else {
            const c = parseControl(m.data);
            if (c && 'exitCode' in c) code = c.exitCode;
          }
        }
        stdout.end();
        stderr.end();
        void stream.close().catch(() => undefined);
      } catch (err) {
        stdout.error(err);
        stderr.error(err);
      }
      resolveExit(code);
    })();
    const control = (message: Parameters<typeof encodeControl>[0]) => stream.write(encodeControl(message), CHANNEL.control).catch(() => undefined);
    // Resizes are coalesced: while one is on its way only the latest waits, so a client's burst queues nothing.
    let nextSize: { columns: number; rows: number } | undefined;
    let resizing = false;
    const resize = (columns: number, rows: number) => {
      nextSize = { columns, rows };
      if (resizing) return;
      resizing = true;
      void (async () => {
        for (let size: { columns: number; rows: number } | undefined = nextSize; size; size = nextSize) {
          nextSize = undefined;
          await control({ resize: size });
        }
        resizing = false;
      })();
    };
    const stdin = new WritableStream<Uint8Array>({
      write: (chunk) => stream.write(chunk, CHANNEL.data),
      close: () => void control({ stdinEnd: true }),
      abort: () => void control({ stdinEnd: true }),
    });
    return {
      stdin,
      stdout: stdout.readable,
      stderr: stderr.readable,
      exitCode,
      resize,
    };
  }

  async portForward(
    job: JobRef,
    options: { task: string; port: number; signal?: AbortSignal },
  ): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    const stream = this.open({ op: 'portForward', job, task: options.task, port: options.port }, options.signal);
    await ready(stream, this.cluster);
    const out = outlet(() => stream.reset('ServiceUnavailable', 'port-forward reader cancelled'));
    void (async () => {
      try {
        for (let m = await stream.read(); m; m = await stream.read()) if (m.channel === CHANNEL.data) await out.push(m.data);
        out.end();
      } catch (err) {
        out.error(err);
      }
    })();
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => stream.write(chunk, CHANNEL.data),
      // Half-close: the task's side sees EOF and may still answer.
      close: () => stream.close(),
      abort: () => stream.reset('ServiceUnavailable', 'port-forward writer aborted'),
    });
    return { readable: out.readable, writable };
  }

  /** Opens a stream on the live tunnel (503 naming the cluster when the agent is not connected); `signal` resets it. */
  private open(request: TunnelRequest, signal: AbortSignal | undefined): TunnelStream {
    if (signal?.aborted) throw new ApiError('ServiceUnavailable', `cluster '${this.cluster}': request cancelled`);
    const tunnel = this.tunnel();
    if (!tunnel) throw notConnected(this.cluster);
    const stream = tunnel.open(request);
    if (signal) {
      const stop = () => stream.reset('ServiceUnavailable', 'cancelled by the API server');
      signal.addEventListener('abort', stop, { once: true });
      stream.signal.addEventListener('abort', () => signal.removeEventListener('abort', stop), { once: true });
    }
    return stream;
  }

  private elsewhere(op: string): ManagerError {
    return new ManagerError('NotImplemented', `cluster '${this.cluster}' runs its skylet in its agent: ${op} happens there, not on the API server`);
  }
}

export function notConnected(cluster: string): ManagerError {
  return new ManagerError('ServiceUnavailable', `cluster '${cluster}': agent not connected`);
}

/** Waits for the agent's {"ready":true} (or its RESET, which carries the manager's error). */
async function ready(stream: TunnelStream, cluster: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stream.reset('ServiceUnavailable', 'no answer in time');
      reject(new ApiError('ServiceUnavailable', `cluster '${cluster}': the agent did not answer within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
  });
  try {
    const first = await Promise.race([stream.read(), timeout]);
    const control = first?.channel === CHANNEL.control ? parseControl(first.data) : undefined;
    if (control && 'ready' in control) return;
    stream.reset('BadRequest', 'expected a ready message');
    throw new ApiError('ServiceUnavailable', `cluster '${cluster}': the agent ended the stream without starting it`);
  } finally {
    clearTimeout(timer);
  }
}
