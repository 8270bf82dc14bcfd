/**
 * Web streams over a tunnel stream: a ReadableStream fed by pushes that wait
 * while its reader is behind (so the tunnel's credit is returned only as the
 * reader takes bytes), and the types a tunnel stream has for the manager.
 */
import type { Reason } from '../../api/index.js';
import type { TunnelRequest } from './protocol.js';

/** One tunnel stream as the manager sees it (src/network/tunnel's MuxStream is one). */
export interface TunnelStream {
  readonly signal: AbortSignal;
  readonly finished: boolean;
  write(data: Uint8Array, channel?: number): Promise<void>;
  close(): Promise<void>;
  reset(reason?: Reason, message?: string): void;
  read(): Promise<{ channel: number; data: Uint8Array } | undefined>;
}

/** The live tunnel to one agent (src/network/tunnel's Mux is one). */
export interface TunnelOpener {
  open(request: TunnelRequest): TunnelStream;
}

/** Bytes a reader may leave unread before pushes wait. */
const HIGH_WATER_BYTES = 64 * 1024;

export interface Outlet {
  readable: ReadableStream<Uint8Array>;
  /** Enqueues, then waits while the reader is behind; returns at once after cancel. */
  push(data: Uint8Array): Promise<void>;
  end(): void;
  error(err: unknown): void;
}

export function outlet(onCancel: () => void = () => {}): Outlet {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulled: (() => void) | undefined;
  let done = false;
  const release = () => {
    const p = pulled;
    pulled = undefined;
    p?.();
  };
  const readable = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => release(),
      cancel: () => {
        done = true;
        release();
        onCancel();
      },
    },
    { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
  );
  return {
    readable,
    async push(data) {
      if (done) return;
      controller.enqueue(data);
      while (!done && (controller.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (pulled = resolve));
    },
    end() {
      if (done) return;
      done = true;
      release();
      controller.close();
    },
    error(err) {
      if (done) return;
      done = true;
      release();
      controller.error(err);
    },
  };
}
