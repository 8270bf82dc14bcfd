/**
 * Streaming endpoints of the FAKE Kubernetes API server: pods/{name}/exec and pods/{name}/portforward, with the
 * real protocols: exec over WebSocket channel protocols (v5.channel.k8s.io ... channel.k8s.io); port-forward over
 * WebSocket channels (v4.channel.k8s.io, client-node), SPDY/3.1 tunnelled in WebSocket (kubectl >= 1.31) and a plain
 * SPDY/3.1 upgrade (older kubectl, or KUBECTL_PORT_FORWARD_WEBSOCKETS=false); exec also over a plain SPDY/3.1 upgrade
 * (remotecommand v1-v4: kubectl < 1.30, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false). pods/{name}/attach is not implemented.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { negotiate } from './channels.js';
import { EXEC_PROTOCOLS, parseExecOptions } from './exec-options.js';
import { serveExecSpdy, SPDY_EXEC_PROTOCOLS } from './exec-spdy.js';
import { runExec } from './exec.js';
import { parsePorts } from './pod-dial.js';
import { PORTFORWARD_SPDY_PROTOCOL, servePortForwardSpdy, TUNNEL_PROTOCOL } from './portforward-spdy.js';
import { PORTFORWARD_WS_PROTOCOLS, runPortForwardWs } from './portforward-ws.js';
import { authorize, findPod, parseTarget, type StreamTarget } from './request.js';
import { badRequest, methodNotAllowed, protocolNotSupported, rejectUpgrade, sendStatus, upgradeRequired, type Status } from './status.js';
import type { StreamDeps, StreamPod } from './types.js';
import { webSocketDuplex } from './ws-duplex.js';

export type { StreamDeps, StreamPod } from './types.js';

const NOT_IMPLEMENTED_ATTACH = 'the fake Kubernetes API server does not implement pods/attach';

/**
 * The subprotocol chosen for each request before the handshake. ws refuses to parse `SPDY/3.1+portforward.k8s.io`
 * ('/' is no token character), so the request header is taken away before ws sees it and the answer is added here.
 */
const chosenProtocol = new WeakMap<IncomingMessage, string>();
let wssInstance: WebSocketServer | undefined;
function wss(): WebSocketServer {
  if (wssInstance) return wssInstance;
  wssInstance = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 8 << 20 });
  wssInstance.on('headers', (headers: string[], req: IncomingMessage) => {
    const chosen = chosenProtocol.get(req);
    if (chosen) headers.push(`Sec-WebSocket-Protocol: ${chosen}`);
  });
  return wssInstance;
}

/** Upgraded sockets by the deps of the server that took them, so that server's close can end them (closeStreams). */
const openSockets = new WeakMap<StreamDeps, Set<Duplex>>();

function track(deps: StreamDeps, socket: Duplex): void {
  let set = openSockets.get(deps);
  if (!set) openSockets.set(deps, (set = new Set()));
  set.add(socket);
  socket.once('close', () => set.delete(socket));
}

/**
 * Destroys every exec/port-forward connection served with `deps` (their processes are killed, their pod connections
 * closed). Call it when the fake server closes: http.Server#close waits for upgraded sockets, which
 * closeAllConnections does not reach.
 */
export function closeStreams(deps: StreamDeps): void {
  for (const socket of openSockets.get(deps) ?? []) socket.destroy();
}

/** The checks every stream request passes first, in the API server's order: token, pod (404), subresource, method. */
function admit(req: IncomingMessage, target: StreamTarget, deps: StreamDeps): { pod: StreamPod } | { status: Status } {
  deps.count(target.kind, 'pods');
  const denied = authorize(req, deps);
  if (denied) return { status: denied };
  const found = findPod(target, deps);
  if ('status' in found) return found;
  if (target.kind === 'attach') return { status: badRequest(NOT_IMPLEMENTED_ATTACH) };
  if (req.method !== 'GET' && req.method !== 'POST') return { status: methodNotAllowed() };
  return found;
}

/** Handles an HTTP upgrade for exec/port-forward; returns false when the path is not a stream path (the caller answers). */
export function handleStreamUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: StreamDeps): boolean {
  const target = parseTarget(req.url);
  if (!target) return false;
  // A client that resets its connection must not take the server down.
  socket.on('error', () => socket.destroy());
  const admitted = admit(req, target, deps);
  if ('status' in admitted) {
    rejectUpgrade(socket, admitted.status);
    return true;
  }
  const { pod } = admitted;
  track(deps, socket);
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  const alive = podStillRunning(deps, target, pod);
  if (upgrade === 'websocket') webSocketStream(req, socket, head, target, pod, alive);
  else if (upgrade === 'spdy/3.1') spdyUpgrade(req, socket, head, target, pod, alive);
  else rejectUpgrade(socket, upgradeRequired());
  return true;
}

/** Whether the pod an exec runs in is still the same pod and Running (a recreated pod of the same name is another). */
function podStillRunning(deps: StreamDeps, target: StreamTarget, pod: StreamPod): () => boolean {
  return () => {
    const now = deps.lookupPod(target.namespace, target.name);
    return now?.phase === 'Running' && now.podIP === pod.podIP && now.uid === pod.uid;
  };
}

function webSocketStream(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget, pod: StreamPod, alive: () => boolean): void {
  const exec = target.kind === 'exec' ? parseExecOptions(target, pod) : undefined;
  if (exec && 'status' in exec) return rejectUpgrade(socket, exec.status);
  const supported = exec ? EXEC_PROTOCOLS : [TUNNEL_PROTOCOL, ...PORTFORWARD_WS_PROTOCOLS];
  const { offered, chosen } = negotiate(req.headers['sec-websocket-protocol'], supported);
  if (chosen === undefined) return rejectUpgrade(socket, protocolNotSupported(offered, supported.filter(Boolean)));
  const forward = { podIP: pod.podIP, podName: target.name, uid: pod.uid ?? '', running: pod.phase === 'Running' };
  let ports: number[] = [];
  if (!exec && chosen !== TUNNEL_PROTOCOL) {
    const parsed = parsePorts(target.query.getAll('ports'));
    if ('error' in parsed) return rejectUpgrade(socket, badRequest(parsed.error));
    ports = parsed.ports;
  }
  chosenProtocol.set(req, chosen);
  delete req.headers['sec-websocket-protocol'];
  wss().handleUpgrade(req, socket, head, (ws: WebSocket) => {
    if (exec) runExec(ws, chosen, pod, exec.opts, alive);
    else if (chosen === TUNNEL_PROTOCOL) servePortForwardSpdy(webSocketDuplex(ws), forward);
    else runPortForwardWs(ws, chosen, { ...forward, ports });
  });
}

/** The plain SPDY upgrade (spdy.NewResponseUpgrader): 101 with the X-Stream-Protocol-Version the client offered first. */
function spdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget, pod: StreamPod, alive: () => boolean): void {
  const exec = target.kind === 'exec' ? parseExecOptions(target, pod) : undefined;
  if (exec && 'status' in exec) return rejectUpgrade(socket, exec.status);
  const supported = exec ? SPDY_EXEC_PROTOCOLS : [PORTFORWARD_SPDY_PROTOCOL];
  const offered = String(req.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .slice(0, 32);
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) return rejectUpgrade(socket, protocolNotSupported(offered, supported));
  if (exec && pod.phase !== 'Running') {
    // The kubelet's plain-text refusal, passed through by the API server (kubectl: "unable to upgrade connection: ...").
    // Its code is 500; the fake answers 400, as no request may draw a 500 from it.
    const message = `container not found ("${exec.opts.container}")`;
    return rejectUpgrade(socket, badRequest(message), message);
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  if (exec) serveExecSpdy(socket, chosen, pod, exec.opts, alive);
  else servePortForwardSpdy(socket, { podIP: pod.podIP, podName: target.name, uid: pod.uid ?? '', running: pod.phase === 'Running' });
}

/** A plain (non-upgrade) request to a stream path: answered as the real server does. Returns false for other paths. */
export function handleStreamRequest(req: IncomingMessage, res: ServerResponse, deps: StreamDeps): boolean {
  const target = parseTarget(req.url);
  if (!target) return false;
  const admitted = admit(req, target, deps);
  sendStatus(res, 'status' in admitted ? admitted.status : upgradeRequired());
  return true;
}
