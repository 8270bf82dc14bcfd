/**
 * The channel.k8s.io WebSocket subprotocols (wsstream): every message starts with a channel byte (binary protocols) or
 * an ASCII digit followed by base64 (base64 protocols). v5 adds the CLOSE signal: a message [255, channel] half-closes
 * that channel. Outgoing messages respect the socket's backpressure through `drained()`.
 */
import type { WebSocket } from 'ws';

export const CLOSE_SIGNAL = 255;
export const V5 = 'v5.channel.k8s.io';

/** The subprotocol the client asked for first among `supported` ('' when it asked for none); undefined when none fits. */
export function negotiate(header: string | string[] | undefined, supported: readonly string[]): { offered: string[]; chosen?: string } {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const offered = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .slice(0, 32);
  if (offered.length === 0) return { offered, ...(supported.includes('') ? { chosen: '' } : {}) };
  const chosen = offered.find((p) => supported.includes(p));
  return { offered, ...(chosen !== undefined ? { chosen } : {}) };
}

const HIGH_WATER = 1 << 20;

export interface ChannelHandlers {
  /** Data from the client on `channel` (already decoded). */
  data(channel: number, data: Buffer): void;
  /** v5 only: the client half-closed `channel`. */
  close?(channel: number): void;
  /** The WebSocket closed (either side). */
  end(): void;
}

/** One WebSocket speaking a channel protocol. */
export class ChannelConn {
  readonly base64: boolean;
  readonly v5: boolean;
  private drainWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly protocol: string,
    handlers: ChannelHandlers,
  ) {
    this.base64 = protocol.includes('base64');
    this.v5 = protocol === V5;
    // Text or binary alike: wsstream reads any message kind.
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const frame = this.decode(buf);
      if (!frame) return;
      if (this.v5 && frame.channel === CLOSE_SIGNAL) {
        if (frame.data.length > 0) handlers.close?.(frame.data[0]!);
        return;
      }
      handlers.data(frame.channel, frame.data);
    });
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      this.closed = true;
      this.flushDrain();
      handlers.end();
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  /** Sends `data` on `channel`; returns false when the socket's buffer is full (wait for `drained()`). */
  send(channel: number, data: Buffer): boolean {
    if (!this.isOpen) return false;
    const message = this.base64 ? String.fromCharCode(48 + channel) + data.toString('base64') : Buffer.concat([Buffer.of(channel), data]);
    this.ws.send(message, { binary: !this.base64 }, () => this.flushDrain());
    return this.ws.bufferedAmount < HIGH_WATER;
  }

  /** Resolves once the socket's buffer has room again (or the socket closed). */
  drained(): Promise<void> {
    if (!this.isOpen || this.ws.bufferedAmount < HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** A normal close (1000) once everything queued is sent. */
  close(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000);
  }

  private flushDrain(): void {
    if (this.drainWaiters.length === 0) return;
    if (!this.closed && this.ws.bufferedAmount >= HIGH_WATER) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private decode(buf: Buffer): { channel: number; data: Buffer } | undefined {
    if (buf.length === 0) return undefined;
    if (!this.base64) return { channel: buf[0]!, data: buf.subarray(1) };
    const channel = buf[0]! - 48;
    if (channel < 0 || channel > 9) return undefined;
    return { channel, data: Buffer.from(buf.subarray(1).toString('latin1'), 'base64') };
  }
}
