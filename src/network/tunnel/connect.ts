/**
 * The agent's end of the tunnel: keeps one WebSocket open to the API server's
 * GET /agent/tunnel (authenticated with the agent's token), reconnecting with
 * the codebase's capped, jittered backoff, and serves every stream the server
 * opens with the agent's cluster manager (serve.ts). Outbound only: the
 * agent's machine needs no open port.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';
import { backoffDelay, sleep, type BackoffOptions } from '../../lib/index.js';
import type { ClusterManager } from '../../managers/index.js';
import { serveStream } from './serve.js';
import { muxOverWebSocket, TUNNEL_MAX_PAYLOAD } from './ws-transport.js';

/**
 * How the agent verifies the server: the REST client's TlsOptions (a CA, or no
 * verification at all), plus ws's own hooks for anything else (a pinned
 * certificate through checkServerIdentity or createConnection).
 */
export interface TunnelTlsOptions extends Pick<ClientOptions, 'cert' | 'key' | 'checkServerIdentity' | 'createConnection'> {
  /** PEM CA bundle that signed the server's certificate. */
  ca?: string | Buffer;
  /** Accept any certificate: encryption without authentication of the server. */
  insecureSkipTlsVerify?: boolean;
}

/** Where connection events go (the controllers' Logger is one). */
export interface TunnelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export type TunnelEvent =
  { type: 'connected'; connections: number } | { type: 'disconnected'; reason: string } | { type: 'failed'; error: string; retryInMs: number };

export interface ConnectTunnelOptions {
  /** The API server, http(s)://host:port. */
  server: string;
  /** The agent's join token (sent as Authorization: Bearer); none against a server without authentication. */
  token?: string | undefined;
  cluster: string;
  manager: ClusterManager;
  signal: AbortSignal;
  tls?: TunnelTlsOptions;
  /** Reconnect backoff (default 500 ms doubling to 30 s, 20% jitter). */
  backoff?: BackoffOptions;
  /** Keepalive ping interval (default 15 s). */
  pingMs?: number;
  /** The server must answer the handshake within this (default 10 s). */
  handshakeTimeoutMs?: number;
  onEvent?: (event: TunnelEvent) => void;
  /** Logs connects (info), disconnects and failed attempts (warn). */
  logger?: TunnelLogger;
}

export interface AgentTunnel {
  readonly connected: boolean;
  /** Successful connections so far (1 + reconnects). */
  readonly connections: number;
  /** Why the last attempt or connection ended. */
  readonly lastError: string | undefined;
  /** Resolves true once connected, false if the signal aborts first. */
  whenConnected(): Promise<boolean>;
  /** Resolves when the signal has aborted and the connection is closed. */
  readonly done: Promise<void>;
}

/** A connection that lasted this long resets the backoff (a shorter one, e.g. two agents replacing each other, does not). */
const STABLE_MS = 30_000;

export function connectTunnel(options: ConnectTunnelOptions): AgentTunnel {
  const url = tunnelUrl(options.server, options.cluster);
  let connected = false;
  let connections = 0;
  let lastError: string | undefined;
  let waiters: ((ok: boolean) => void)[] = [];
  const settle = (ok: boolean) => {
    const w = waiters;
    waiters = [];
    for (const fn of w) fn(ok);
  };
  const log = options.logger;
  const emit = (e: TunnelEvent) => {
    if (e.type === 'connected') log?.info({ cluster: options.cluster, connections: e.connections }, 'agent tunnel connected');
    else if (e.type === 'disconnected') log?.warn({ cluster: options.cluster, reason: e.reason }, 'agent tunnel lost');
    else log?.warn({ cluster: options.cluster, error: e.error, retryInMs: e.retryInMs }, 'agent tunnel: cannot connect; retrying');
    try {
      options.onEvent?.(e);
    } catch {
      // A listener's failure is not the tunnel's.
    }
  };

  const done = (async () => {
    let attempt = 0;
    while (!options.signal.aborted) {
      const started = Date.now();
      const result = await once(url, options, () => {
        connected = true;
        connections++;
        emit({ type: 'connected', connections });
        settle(true);
      });
      const wasConnected = connected;
      connected = false;
      lastError = result;
      if (options.signal.aborted) break;
      if (wasConnected) emit({ type: 'disconnected', reason: result });
      attempt = wasConnected && Date.now() - started >= STABLE_MS ? 1 : attempt + 1;
      const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 30_000, ...options.backoff });
      emit({ type: 'failed', error: result, retryInMs: delay });
      await sleep(delay, options.signal);
    }
    settle(false);
  })();

  return {
    get connected() {
      return connected;
    },
    get connections() {
      return connections;
    },
    get lastError() {
      return lastError;
    },
    whenConnected: () => (connected ? Promise.resolve(true) : options.signal.aborted ? Promise.resolve(false) : new Promise((r) => waiters.push(r))),
    done,
  };
}

/** One connection, from handshake to close; resolves with why it ended. Never rejects. */
function once(url: string, options: ConnectTunnelOptions, onOpen: () => void): Promise<string> {
  return new Promise((resolve) => {
    const { ca, insecureSkipTlsVerify, ...tls } = options.tls ?? {};
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        ...tls,
        ...(ca !== undefined ? { ca } : {}),
        rejectUnauthorized: insecureSkipTlsVerify !== true,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        maxPayload: TUNNEL_MAX_PAYLOAD,
        perMessageDeflate: false,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        followRedirects: false,
      });
    } catch (err) {
      // Bad options (a malformed token header, TLS material): retried like any failure, never thrown at the agent.
      resolve(err instanceof Error ? err.message : String(err));
      return;
    }
    let reason = 'connection closed';
    const stop = () => {
      reason = 'agent stopping';
      ws.close(1001, 'agent stopping');
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    options.signal.addEventListener('abort', stop, { once: true });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      void readStatus(res).then((message) => {
        reason = `server answered ${res.statusCode ?? '?'}: ${message}`;
        ws.terminate();
      });
    });
    ws.on('error', (err) => {
      if (reason === 'connection closed') reason = err.message;
    });
    ws.once('open', () => {
      // The mux lives as long as the WebSocket: its close ends every stream.
      muxOverWebSocket(ws, {
        side: 'agent',
        onStream: (stream) => serveStream(options.manager, options.cluster, stream),
        ...(options.pingMs !== undefined ? { pingMs: options.pingMs } : {}),
      });
      onOpen();
    });
    ws.once('close', (code: number, why: Buffer) => {
      options.signal.removeEventListener('abort', stop);
      // The server's close code and reason say most (4000: a newer tunnel of this cluster replaced this one).
      if (reason === 'connection closed') reason = `closed by the server (${code}${why.length > 0 ? ` ${why.toString()}` : ''})`;
      resolve(reason);
    });
  });
}

/** The message of a refusal (a Status body), read up to 4 KiB. */
async function readStatus(res: IncomingMessage): Promise<string> {
  let body = '';
  try {
    for await (const chunk of res) {
      body += String(chunk);
      if (body.length > 4096) break;
    }
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // Not a Status: the status line says enough.
  }
  return res.statusMessage ?? 'refused';
}

export function tunnelUrl(server: string, cluster: string): string {
  const u = new URL(server);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`server '${server}' must be an http:// or https:// URL`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/agent/tunnel`;
  u.search = `?cluster=${encodeURIComponent(cluster)}`;
  return u.toString();
}
