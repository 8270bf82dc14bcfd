/**
 * Exec and port-forward over the API server's WebSocket routes (DESIGN
 * sections 4 and 14), for Node programs (skyctl). Exec speaks the Kubernetes
 * v5.channel.k8s.io framing (a channel byte in front of every message:
 * 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close); port-forward
 * is one WebSocket per TCP connection carrying raw bytes. A refusal before
 * the upgrade (403, 404, 409, 501 ...) is thrown as the server's ApiError.
 */
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { ApiError } from '../api/errors.js';
import { UnreachableError } from './client.js';
import type { TlsOptions } from './node-transport.js';
import { parseServerUrl } from './transport.js';

export interface StreamConnection {
  server: string;
  token?: string;
  tls?: TlsOptions;
}

export interface ExecRequest {
  namespace: string;
  job: string;
  /** Default: the job's first task (the server says which, see `task`). */
  task?: string;
  command: string[];
  tty?: boolean;
  /** Attach stdin (`write`, `closeStdin`); without it the command reads EOF. */
  stdin?: boolean;
}

/** Where output goes; a write answering false pauses the stream until the target's 'drain'. */
export interface ExecOutput {
  stdout(chunk: Buffer): boolean | void;
  stderr(chunk: Buffer): boolean | void;
  /** Called with a function to call once the output may flow again. */
  onDrain?(resume: () => void): void;
}

export interface ExecConnection {
  /** The task the command runs in, and how many the job has. */
  readonly task: string;
  readonly tasks: number;
  /** Sends stdin bytes; resolves once they are handed to the connection (wait before sending more). */
  write(data: Uint8Array): Promise<void>;
  closeStdin(): void;
  resize(columns: number, rows: number): void;
  /** The command's exit code; rejects if the connection ends without one. */
  readonly exitCode: Promise<number>;
  /** Ends the session (the server kills the command). */
  close(): void;
}

const EXEC_PROTOCOL = 'v5.channel.k8s.io';
const PORTFORWARD_PROTOCOL = 'portforward.skyshift.io';
const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;
const HANDSHAKE_TIMEOUT_MS = 60_000;
const MAX_ERROR_BODY = 64 * 1024;
const HIGH_WATER_BYTES = 1024 * 1024;

export async function openExec(conn: StreamConnection, request: ExecRequest, output: ExecOutput): Promise<ExecConnection> {
  const query = new URLSearchParams();
  for (const arg of request.command) query.append('command', arg);
  if (request.task) query.set('task', request.task);
  query.set('tty', String(request.tty === true));
  query.set('stdin', String(request.stdin === true));
  const { ws, headers, onMessage, closed } = await connect(conn, jobPath(request.namespace, request.job, 'exec', query), EXEC_PROTOCOL);
  let status: Record<string, unknown> | undefined;
  onMessage((data) => {
    const channel = data[0];
    const payload = data.subarray(1);
    let more: boolean | void = true;
    if (channel === CHANNEL.stdout) more = output.stdout(payload);
    else if (channel === CHANNEL.stderr) more = output.stderr(payload);
    else if (channel === CHANNEL.status) status = parseStatus(payload);
    if (more === false && output.onDrain) {
      ws.pause();
      output.onDrain(() => ws.resume());
    }
  });
  const exitCode = closed.then(({ code, reason }) => {
    if (status) return settle(status);
    throw new Error(`the exec connection closed without the command's exit status (${code}${reason ? `: ${reason}` : ''})`);
  });
  exitCode.catch(() => undefined);
  return {
    task: headers['x-skyshift-task'] ?? request.task ?? '',
    tasks: Number(headers['x-skyshift-tasks'] ?? 1) || 1,
    write: (data) => send(ws, Buffer.concat([Buffer.of(CHANNEL.stdin), data])),
    closeStdin: () => void send(ws, Buffer.of(CHANNEL.close, CHANNEL.stdin)),
    resize: (columns, rows) => void send(ws, Buffer.concat([Buffer.of(CHANNEL.resize), Buffer.from(JSON.stringify({ Width: columns, Height: rows }))])),
    exitCode,
    close: () => ws.close(1000),
  };
}

export interface PortForwardRequest {
  namespace: string;
  job: string;
  task?: string;
  port: number;
}

/** One TCP connection to a task's port, as a Duplex of its bytes (end it to close the connection). */
export async function openPortForward(conn: StreamConnection, request: PortForwardRequest): Promise<{ stream: Duplex; task: string }> {
  const query = new URLSearchParams({ port: String(request.port) });
  if (request.task) query.set('task', request.task);
  const { ws, headers, onMessage } = await connect(conn, jobPath(request.namespace, request.job, 'portforward', query), PORTFORWARD_PROTOCOL);
  return { stream: byteStream(ws, onMessage), task: headers['x-skyshift-task'] ?? request.task ?? '' };
}

const STREAM_HIGH_WATER_BYTES = 1024 * 1024;

/** The WebSocket's messages as a byte Duplex; ending it closes the WebSocket (and so the task's connection). */
function byteStream(ws: WebSocket, onMessage: (handler: (data: Buffer) => void) => void): Duplex {
  const duplex = new Duplex({
    // Bulk transfers: the 16 KiB default paused the WebSocket every few messages.
    readableHighWaterMark: STREAM_HIGH_WATER_BYTES,
    writableHighWaterMark: STREAM_HIGH_WATER_BYTES,
    write(chunk: Buffer, _encoding, done) {
      if (ws.readyState !== ws.OPEN) return done(new Error('the port-forward connection is closed'));
      ws.send(chunk, (err) => done(err ?? null));
    },
    final(done) {
      ws.close(1000);
      done();
    },
    read() {
      ws.resume();
    },
    destroy(err, done) {
      if (ws.readyState !== ws.CLOSED) ws.terminate();
      done(err);
    },
  });
  onMessage((data) => {
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('close', () => duplex.push(null));
  ws.on('error', (err) => duplex.destroy(err));
  return duplex;
}

function jobPath(namespace: string, job: string, route: string, query: URLSearchParams): string {
  return `/${encodeURIComponent(namespace)}/jobs/${encodeURIComponent(job)}/${route}?${query.toString()}`;
}

interface Opened {
  ws: WebSocket;
  headers: Record<string, string>;
  /**
   * Sets the message handler, first replaying what arrived before it: the
   * first messages can come in the same packet as the handshake's answer,
   * before the caller of connect() has run again.
   */
  onMessage(handler: (data: Buffer) => void): void;
  /** Settles when the WebSocket has closed (listened for from the start, like the messages). */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens the WebSocket; resolves with it and the 101's headers, or rejects with the server's Status. */
function connect(conn: StreamConnection, path: string, protocol: string): Promise<Opened> {
  const url = parseServerUrl(conn.server);
  const base = `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const ws = new WebSocket(base + path, [protocol], {
    headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {},
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    perMessageDeflate: false,
    ...(conn.tls?.ca ? { ca: conn.tls.ca } : {}),
    rejectUnauthorized: conn.tls?.insecureSkipTlsVerify !== true,
  });
  const early: Buffer[] = [];
  let handler: ((data: Buffer) => void) | undefined;
  ws.on('message', (data: Buffer) => (handler ? handler(data) : early.push(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const onMessage = (h: (data: Buffer) => void) => {
    for (const data of early.splice(0)) h(data);
    handler = h;
  };
  return new Promise((resolve, reject) => {
    let headers: Record<string, string> = {};
    ws.once('upgrade', (res) => {
      headers = Object.fromEntries(Object.entries(res.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
    });
    ws.once('open', () => resolve({ ws, headers, onMessage, closed }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_ERROR_BODY) chunks.push(c);
      });
      res.once('end', () => reject(statusError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.once('error', (err) => reject(new UnreachableError(conn.server, err)));
    });
    ws.once('error', (err) => reject(new UnreachableError(conn.server, err)));
  });
}

function send(ws: WebSocket, data: Buffer): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve();
  const sent = new Promise<void>((resolve) => ws.send(data, () => resolve()));
  return ws.bufferedAmount > HIGH_WATER_BYTES ? sent : Promise.resolve();
}

function statusError(code: number, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { message: text || `HTTP ${code}` };
  }
  return ApiError.fromStatus(parsed, code);
}

function parseStatus(payload: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  return { status: 'Failure', message: `unreadable exit status: ${payload.toString('utf8').slice(0, 200)}` };
}

/** Kubernetes' exec status: Success, or Failure with reason NonZeroExitCode and the code as the ExitCode cause. */
function settle(status: Record<string, unknown>): number {
  if (status.status === 'Success') return 0;
  const causes = (status.details as { causes?: Array<{ reason?: string; message?: string }> } | undefined)?.causes ?? [];
  const code = Number(causes.find((c) => c.reason === 'ExitCode')?.message);
  if (status.reason === 'NonZeroExitCode' && Number.isInteger(code)) return code;
  throw new Error(typeof status.message === 'string' ? status.message : 'exec failed');
}
