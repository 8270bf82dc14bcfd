/**
 * The client's Node transport: node:http / node:https over keep-alive agents.
 *
 * Global fetch (undici) builds WHATWG Request/Headers/Response objects and a web
 * stream per call; with the scheduler writing thousands of statuses that was
 * about a quarter of `skyshift up`'s CPU plus much of its GC. Here a JSON call is
 * one ClientRequest whose body is collected into one Buffer and parsed once.
 *
 * Two pools per server: short JSON calls share a bounded keep-alive pool, while
 * watches and log streams each get their own connection. A stream holds its
 * socket for minutes; in the shared pool, enough informers would starve (or,
 * at maxSockets, deadlock) the calls they depend on.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  parseServerUrl,
  parseWarningHeader,
  type BufferedResponse,
  type Headers,
  type StreamResponse,
  type Transport,
  type TransportRequest,
} from './transport.js';

export interface TlsOptions {
  /** PEM CA bundle that signed the server's certificate. */
  ca?: string | Buffer;
  /** Accept any certificate: encryption without authentication of the server. */
  insecureSkipTlsVerify?: boolean;
}

export interface NodeTransportOptions {
  tls?: TlsOptions;
  /** Concurrent connections for JSON calls (default 64); further calls queue. Streams are not counted. */
  maxSockets?: number;
  /**
   * A request or stream with no bytes moving for this long fails (default 300 s:
   * undici's headers/body timeouts, which global fetch applied before). Idle
   * watches stay well inside it: the server sends a BOOKMARK every 30 s.
   */
  idleTimeoutMs?: number;
  /** A new connection must be established within this (default 10 s, as undici's). */
  connectTimeoutMs?: number;
}

const DEFAULT_MAX_SOCKETS = 64;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * A pooled socket idle this long is closed by us. The server's keep-alive
 * hint (fastify: 72 s) can only shorten it; closing first avoids reusing a
 * socket the server is closing at that instant.
 */
const FREE_SOCKET_TIMEOUT_MS = 30_000;
/** Methods safe to resend when a pooled socket turns out to be dead (the server never saw them). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** The reused keep-alive socket was already dead: nothing reached the server, the call may be resent. */
class StaleSocket extends Error {
  constructor(readonly original: unknown) {
    super('stale keep-alive socket');
  }
}

export class NodeTransport implements Transport {
  private readonly secure: boolean;
  private readonly hostname: string;
  private readonly port: string;
  /** Path prefix of the server URL ('' for http://host:port). */
  private readonly prefix: string;
  private readonly pool: HttpAgent;
  private readonly streams: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(server: string, options: NodeTransportOptions = {}) {
    const url = parseServerUrl(server);
    this.secure = url.protocol === 'https:';
    // URL keeps IPv6 literals bracketed; the socket layer wants them bare.
    this.hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const tls = { ca: options.tls?.ca, rejectUnauthorized: !options.tls?.insecureSkipTlsVerify };
    const pooled = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS, timeout: FREE_SOCKET_TIMEOUT_MS };
    // Streams end by closing their socket (abort, or the server ending a watch), so nothing to pool.
    const unpooled = { keepAlive: false };
    this.pool = this.secure ? new HttpsAgent({ ...pooled, ...tls }) : new HttpAgent(pooled);
    this.streams = this.secure ? new HttpsAgent({ ...unpooled, ...tls }) : new HttpAgent(unpooled);
    this.send = this.secure ? httpsRequest : httpRequest;
  }

  /** One call with the whole response body read into one Buffer, decoded once. */
  async request(request: TransportRequest): Promise<BufferedResponse> {
    for (;;) {
      try {
        return await this.once(request);
      } catch (err) {
        if (err instanceof StaleSocket) {
          // Each dead socket is destroyed as found, so this ends once the pool is drained of them.
          if (IDEMPOTENT.has(request.method)) continue;
          throw err.original;
        }
        throw err;
      }
    }
  }

  /** A streaming call (watch, logs) on its own connection; `signal` aborting destroys it. */
  stream({ method, path, headers, body, signal }: TransportRequest): Promise<StreamResponse> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, withLength(headers, body), this.streams, signal);
      req.on('error', (err) => reject(signal?.aborted ? signal.reason : err));
      req.on('response', (res) => {
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          body: res,
          close: () => req.destroy(),
        });
      });
      req.end(body);
    });
  }

  /** Closes pooled connections (in-flight calls finish on theirs). Pooled sockets are unref'd, so this is optional. */
  close(): void {
    this.pool.destroy();
    this.streams.destroy();
  }

  private once({ method, path, headers, body, signal }: TransportRequest): Promise<BufferedResponse> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, withLength(headers, body), this.pool, signal);
      let answered = false;
      const fail = (err: unknown) => {
        if (signal?.aborted) reject(signal.reason);
        else if (!answered && req.reusedSocket && isReset(err)) reject(new StaleSocket(err));
        else reject(err);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          const warnings = parseWarningHeader(res.headers.warning);
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'),
            ...(warnings.length > 0 ? { warnings } : {}),
          });
        });
      });
      req.end(body);
    });
  }

  private open(method: string, path: string, headers: Headers, agent: HttpAgent, signal: AbortSignal | undefined): ClientRequest {
    const req = this.send({
      hostname: this.hostname,
      port: this.port,
      path: this.prefix + path,
      method,
      headers,
      agent,
      timeout: this.idleTimeoutMs,
      ...(signal ? { signal } : {}),
    });
    req.on('timeout', () => {
      const err = new Error(`no response from the server for ${this.idleTimeoutMs} ms`);
      // Once a response is streaming, its reader must see this error, not a bare 'aborted'.
      const res = (req as { res?: { destroy(err: Error): void } | null }).res;
      if (res) res.destroy(err);
      else req.destroy(err);
    });
    // Only a fresh connection is still connecting, so pooled calls pay for no timer here.
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      req.once('close', clear);
    });
    return req;
  }
}

function withLength(headers: Headers, body: string | undefined): Headers {
  return body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
}

function isReset(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
