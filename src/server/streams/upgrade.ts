/**
 * WebSocket upgrades go through the same pipeline as every other request: the
 * server's 'upgrade' event hands the request to Fastify's router with a
 * response bound to the raw socket, so the path resolution, the auth gate and
 * the handler run exactly as for a plain GET, and every refusal before the
 * upgrade (401, 403, 404, 409, 501 ...) is an ordinary Status response. Only
 * a handler that accepts calls `accept`, which completes the handshake (ws,
 * noServer mode).
 *
 * Browsers cannot set an Authorization header on a WebSocket: as Kubernetes
 * does, a `base64url.bearer.authorization.k8s.io.<token>` subprotocol is read
 * as the bearer token (when there is no header) and never echoed back.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

const BEARER_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';
/** The exec channel protocols we speak, best first (v4 is v5 without the close channel, which it then never sends). */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** Port-forward: one WebSocket per TCP connection, raw bytes in binary messages. */
export const PORTFORWARD_PROTOCOL = 'portforward.skyshift.io';
/** Largest message a client may send (a stdin chunk, a slice of a forwarded connection). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A closed connection's peer gets this long to answer the close frame before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;

interface Pending {
  socket: Duplex;
  head: Buffer;
  res: ServerResponse;
  upgraded: boolean;
  headers: string[];
}

export class Upgrades {
  private readonly pending = new WeakMap<IncomingMessage, Pending>();
  private readonly open = new Set<WebSocket>();
  /** The open WebSockets that count against the streams limit (exec, port-forward); agent tunnels do not. */
  private readonly counted = new Set<WebSocket>();
  private readonly wss: WebSocketServer;

  constructor(server: Server, route: (req: IncomingMessage, res: ServerResponse) => void, signal: AbortSignal) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, handleProtocols: chooseProtocol });
    this.wss.on('headers', (headers, req) => headers.push(...(this.pending.get(req)?.headers ?? [])));
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node removed its own error listener before 'upgrade': a reset socket must not crash the server.
      socket.on('error', () => socket.destroy());
      // An upgrade request's body never reaches the request stream: a body-reading route would wait forever.
      if (req.method !== 'GET') return refuse(socket, 405, 'MethodNotAllowed', `${req.method ?? ''} cannot upgrade a connection; WebSocket routes take GET`);
      bearerFromProtocol(req);
      const res = new ServerResponse(req);
      const pending: Pending = { socket, head, res, upgraded: false, headers: [] };
      this.pending.set(req, pending);
      res.assignSocket(socket as Socket);
      // Whatever was answered without an upgrade (an error, a plain route) ends the connection.
      res.once('finish', () => pending.upgraded || socket.end());
      try {
        route(req, res);
      } catch {
        socket.destroy();
      }
    };
    server.on('upgrade', onUpgrade);
    signal.addEventListener(
      'abort',
      () => {
        server.off('upgrade', onUpgrade);
        for (const ws of this.open) closeSoon(ws, 1001, 'server shutting down');
      },
      { once: true },
    );
  }

  /** True when the request came in as an upgrade (and has not been accepted yet). */
  isUpgrade(req: IncomingMessage): boolean {
    const p = this.pending.get(req);
    return p !== undefined && !p.upgraded;
  }

  private preparing = 0;

  /** How many exec/port-forward WebSockets are open or being prepared (agent tunnels are not counted). */
  get size(): number {
    return this.counted.size + this.preparing;
  }

  /** Counts a stream being prepared (before its upgrade) until the returned function is called. */
  reserve(): () => void {
    this.preparing++;
    let released = false;
    return () => {
      if (!released) this.preparing--;
      released = true;
    };
  }

  /**
   * Completes the handshake (with extra response headers). `onFail` runs
   * instead of `onOpen` when it cannot complete: the socket is gone, or ws
   * refused the handshake (it then answers 400 itself).
   */
  accept(
    req: IncomingMessage,
    headers: Record<string, string>,
    onOpen: (ws: WebSocket) => void,
    onFail: () => void,
    options: { counted?: boolean } = {},
  ): void {
    const p = this.pending.get(req);
    if (!p || p.upgraded || p.socket.destroyed) return onFail();
    p.upgraded = true;
    p.headers = Object.entries(headers).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, ' ')}`);
    p.res.detachSocket(p.socket as Socket);
    let opened = false;
    p.socket.once('close', () => opened || onFail());
    this.wss.handleUpgrade(req, p.socket, p.head, (ws) => {
      opened = true;
      this.open.add(ws);
      if (options.counted !== false) this.counted.add(ws);
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        this.open.delete(ws);
        this.counted.delete(ws);
      });
      onOpen(ws);
    });
  }
}

/** A Status answer written straight to a socket that never reached Fastify. */
function refuse(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Close with a code and, if the peer does not answer, cut the connection. */
export function closeSoon(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.CLOSED) return;
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

/** The headers a WebSocket handshake needs, checked before any work so a bad one gets a Status, not ws's bare 400. */
export function handshakeProblem(req: IncomingMessage): string | undefined {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return "this route needs 'Upgrade: websocket'";
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return 'missing or malformed Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'unsupported Sec-WebSocket-Version (13 is)';
  return undefined;
}

function chooseProtocol(offered: Set<string>, req: IncomingMessage): string | false {
  const path = (req.url ?? '').split('?', 1)[0] ?? '';
  const ours = path.endsWith('/exec') ? EXEC_PROTOCOLS : [PORTFORWARD_PROTOCOL];
  return ours.find((p) => offered.has(p)) ?? false;
}

/** A bearer token carried as a subprotocol becomes the Authorization header the gate reads (a real header wins). */
function bearerFromProtocol(req: IncomingMessage): void {
  const header = req.headers['sec-websocket-protocol'];
  if (req.headers.authorization !== undefined || typeof header !== 'string') return;
  for (const p of header.split(',')) {
    const value = p.trim();
    if (!value.startsWith(BEARER_PROTOCOL)) continue;
    const token = Buffer.from(value.slice(BEARER_PROTOCOL.length), 'base64url').toString('utf8');
    if (token && !/[\s\0]/.test(token)) req.headers.authorization = `Bearer ${token}`;
    return;
  }
}
