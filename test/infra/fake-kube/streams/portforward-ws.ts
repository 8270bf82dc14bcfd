/**
 * Port-forward over a channel WebSocket (kubelet's handleWebSocketStreams; what @kubernetes/client-node speaks): for the
 * i-th requested port, channel 2i carries data both ways and 2i+1 the server's errors; the server's first message on
 * each carries the port as 2 bytes little-endian. Every port is dialled at once; the socket closes when all are done.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { ChannelConn } from './channels.js';
import { dialPod } from './pod-dial.js';

export const PORTFORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''];

export interface WsForwardTarget {
  podIP: string;
  podName: string;
  uid: string;
  running: boolean;
  ports: number[];
}

export function runPortForwardWs(ws: WebSocket, protocol: string, target: WsForwardTarget): void {
  const sockets: (Socket | undefined)[] = target.ports.map(() => undefined);
  /** Client data that arrived before its port's connection was up. */
  const early: Buffer[][] = target.ports.map(() => []);
  let earlyBytes = 0;
  let pending = target.ports.length;
  const conn = new ChannelConn(ws, protocol, {
    data(channel, data) {
      const i = channel >> 1;
      if (channel % 2 !== 0 || i >= target.ports.length) return;
      const socket = sockets[i];
      if (socket) {
        if (!socket.write(data)) {
          ws.pause();
          socket.once('drain', () => ws.resume());
        }
        return;
      }
      earlyBytes += data.length;
      if (earlyBytes > 8 << 20) ws.terminate();
      else early[i]!.push(data);
    },
    end() {
      for (const s of sockets) s?.destroy();
    },
  });
  const portDone = () => {
    pending -= 1;
    if (pending === 0) conn.close();
  };
  target.ports.forEach((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    conn.send(2 * i, prefix);
    conn.send(2 * i + 1, prefix);
    void (async () => {
      const dialed = target.running
        ? await dialPod(target.podIP, target.podName, target.uid, port)
        : { error: `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: pod not found ("${target.podName}")` };
      if ('error' in dialed) {
        conn.send(2 * i + 1, Buffer.from(dialed.error));
        portDone();
        return;
      }
      if (!conn.isOpen) {
        dialed.socket.destroy();
        return;
      }
      const socket = dialed.socket;
      sockets[i] = socket;
      for (const chunk of early[i]!.splice(0)) socket.write(chunk);
      socket.on('data', (chunk: Buffer) => {
        if (!conn.send(2 * i, chunk)) {
          socket.pause();
          void conn.drained().then(() => socket.resume());
        }
      });
      socket.on('error', () => socket.destroy());
      socket.once('close', portDone);
    })();
  });
}
