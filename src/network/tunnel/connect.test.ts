import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClusterManager } from '../../managers/index.js';
import { connectTunnel, tunnelUrl, type TunnelEvent } from './connect.js';

test('connectTunnel: a refusal is retried with its Status message, a dropped tunnel is reopened, the token and cluster are sent', async (t) => {
  const seen: { auth: string | undefined; url: string | undefined }[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push({ auth: req.headers.authorization, url: req.url });
    if (seen.length === 1) {
      const body = JSON.stringify({ kind: 'Status', message: "cluster 'lab' not found: the agent creates it before opening its tunnel" });
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => sockets.push(ws));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const stop = new AbortController();
  t.after(() => {
    stop.abort();
    server.close();
  });
  const events: TunnelEvent[] = [];
  const tunnel = connectTunnel({
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'sks_agent',
    cluster: 'lab',
    manager: {} as ClusterManager,
    signal: stop.signal,
    backoff: { baseMs: 20, maxMs: 50 },
    pingMs: 0,
    onEvent: (e) => void events.push(e),
  });
  assert.ok(await tunnel.whenConnected());
  assert.match(events.find((e) => e.type === 'failed')?.error ?? '', /server answered 404: cluster 'lab' not found/);
  assert.deepEqual(seen[1], { auth: 'Bearer sks_agent', url: '/agent/tunnel?cluster=lab' });
  // The server drops the connection: the agent comes back on its own.
  sockets[0]!.close(4000, 'replaced by a newer tunnel');
  const reopened = Date.now() + 5_000;
  while (tunnel.connections < 2 && Date.now() < reopened) await new Promise((r) => setTimeout(r, 20));
  assert.equal(tunnel.connections, 2);
  assert.ok(events.some((e) => e.type === 'disconnected' && /4000 replaced by a newer tunnel/.test(e.reason)));
  stop.abort();
  await tunnel.done;
  assert.equal(tunnel.connected, false);
});

test('tunnelUrl: http(s) become ws(s), a base path is kept, the cluster is encoded', () => {
  assert.equal(tunnelUrl('https://cp:50051', 'lab'), 'wss://cp:50051/agent/tunnel?cluster=lab');
  assert.equal(tunnelUrl('http://cp/sky/', 'a-b'), 'ws://cp/sky/agent/tunnel?cluster=a-b');
  assert.throws(() => tunnelUrl('ftp://cp', 'lab'), /http/);
});
