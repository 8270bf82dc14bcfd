/**
 * Many streams over one message transport (a WebSocket): the server opens
 * streams towards the agent (logs, exec, port-forward), each with its own
 * flow control (stream.ts), so one slow or stalled stream never blocks the
 * others and nothing is buffered without bound.
 *
 * - Stream ids: the server side opens even ids, the agent side odd ones, so
 *   both may open streams without agreeing first; an id is never reused while
 *   its stream is open (the counter skips open ids when it wraps).
 * - Limits: at most `maxStreams` open streams per side (an OPEN beyond that
 *   is RESET with TooManyRequests), bounded frames (frames.ts). DATA waits
 *   while the transport holds more than TRANSPORT_HIGH_WATER_BYTES unsent (a
 *   slow link); a transport whose unsent bytes still pass `maxBufferedBytes`
 *   (a peer that stopped reading the tunnel itself) ends the tunnel.
 * - Teardown: when the transport closes, every stream fails at once with
 *   ServiceUnavailable, so every reader and writer returns.
 */
import { ApiError } from '../../api/index.js';
import { decodeFrame, encodeOpen, encodeReset, FRAME, MAX_DATA_BYTES, MAX_STREAM_ID, ProtocolError, type Frame } from './frames.js';
import { FRAME_COST_BYTES, MuxStream, toReason } from './stream.js';

/**
 * Per-stream window (bytes a sender may have unacknowledged). Both sides must
 * use the same. A stream moves at most a window per round trip: 256 KiB halved
 * loopback throughput on a busy machine against a bare WebSocket, 1 MiB matched it.
 * It is also what one stalled reader can make the other side hold.
 */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024;
export const DEFAULT_MAX_STREAMS = 512;
/** Unsent bytes in the transport beyond which DATA waits (the link is slower than the streams together). */
export const TRANSPORT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Unsent bytes in the transport beyond which the peer is taken for gone (only control frames pass the high-water mark). */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** How often a full transport is checked for room (ws has no drain event). */
const ROOM_POLL_MS = 2;

/** The message transport under a Mux: one binary message per frame. */
export interface FrameTransport {
  send(frame: Buffer): void;
  /** Bytes handed to send() and not yet written out. */
  readonly bufferedAmount: number;
  close(reason: string): void;
}

export interface MuxOptions {
  /** 'server' opens even stream ids, 'agent' odd ones. */
  side: 'server' | 'agent';
  /** Called with each stream the peer opens; without it, OPENs are refused (NotImplemented). */
  onStream?: (stream: MuxStream) => void;
  window?: number;
  maxStreams?: number;
  maxBufferedBytes?: number;
}

export class Mux {
  private readonly streams = new Map<number, MuxStream>();
  private readonly window: number;
  private readonly maxStreams: number;
  private readonly maxBuffered: number;
  private nextId: number;
  private ended: ApiError | undefined;
  private roomWaiter: Promise<void> | undefined;
  private readonly done = new AbortController();
  /** Aborted (with the reason) when the tunnel is over. */
  readonly signal = this.done.signal;

  constructor(
    private readonly transport: FrameTransport,
    private readonly options: MuxOptions,
  ) {
    this.window = options.window ?? DEFAULT_WINDOW_BYTES;
    if (this.window < MAX_DATA_BYTES + FRAME_COST_BYTES) throw new Error(`tunnel window must be at least ${MAX_DATA_BYTES + FRAME_COST_BYTES} bytes`);
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.nextId = this.firstId();
  }

  /** Open streams (both directions). */
  get size(): number {
    return this.streams.size;
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Opens a stream carrying `request`; throws ServiceUnavailable once the tunnel is gone, TooManyRequests at the limit. */
  open(request: unknown): MuxStream {
    if (this.ended) throw this.ended;
    if (this.streams.size >= this.maxStreams) throw new ApiError('TooManyRequests', `too many tunnel streams open (${this.maxStreams}); retry later`);
    const id = this.allocateId();
    const stream = this.newStream(id, request);
    this.send(encodeOpen(id, request));
    return stream;
  }

  /** Feeds one message from the transport. A malformed frame ends the tunnel (the peer does not speak our protocol). */
  receive(message: Uint8Array): void {
    if (this.ended) return;
    let frame: Frame;
    try {
      frame = decodeFrame(message);
    } catch (err) {
      this.terminate(`tunnel protocol error: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const stream = this.streams.get(frame.id);
    switch (frame.type) {
      case FRAME.open:
        return this.accept(frame.id, frame.request);
      case FRAME.data:
        return stream?.onData(frame.channel, frame.data);
      case FRAME.window:
        return stream?.onWindow(frame.credit);
      case FRAME.close:
        return stream?.onClose();
      case FRAME.reset:
        return stream?.fail(new ApiError(toReason(frame.reason), frame.message));
    }
  }

  /** Ends the tunnel: every stream fails with ServiceUnavailable naming `reason`; the transport is closed. */
  terminate(reason: string): void {
    if (this.ended) return;
    this.ended = new ApiError('ServiceUnavailable', reason);
    for (const stream of [...this.streams.values()]) stream.fail(this.ended);
    this.streams.clear();
    this.done.abort(this.ended);
    try {
      this.transport.close(reason);
    } catch {
      // Already closed.
    }
  }

  private accept(id: number, request: unknown): void {
    if (id % 2 === this.nextId % 2) return this.terminate(`tunnel protocol error: the peer opened stream ${id}, an id of ours`);
    if (this.streams.has(id)) return this.terminate(`tunnel protocol error: stream ${id} opened twice`);
    if (!this.options.onStream) return this.send(encodeReset(id, 'NotImplemented', 'this side of the tunnel serves no streams'));
    if (this.streams.size >= this.maxStreams) return this.send(encodeReset(id, 'TooManyRequests', `too many tunnel streams open (${this.maxStreams})`));
    const stream = this.newStream(id, request);
    try {
      this.options.onStream(stream);
    } catch (err) {
      stream.reset('InternalError', err instanceof Error ? err.message : String(err));
    }
  }

  private newStream(id: number, request: unknown): MuxStream {
    const host = { send: (f: Buffer) => this.send(f), forget: (i: number) => this.streams.delete(i), room: () => this.room() };
    const stream = new MuxStream(id, request, host, this.window);
    this.streams.set(id, stream);
    return stream;
  }

  private send(frame: Buffer): void {
    if (this.ended) return;
    // Flow control bounds what streams queue; this catches a peer that stopped reading the whole tunnel.
    if (this.transport.bufferedAmount > this.maxBuffered) return this.terminate(`tunnel peer is not reading (over ${this.maxBuffered} bytes unsent)`);
    try {
      this.transport.send(frame);
    } catch (err) {
      this.terminate(`tunnel transport failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private room(): Promise<void> | undefined {
    if (this.ended || this.transport.bufferedAmount <= TRANSPORT_HIGH_WATER_BYTES) return undefined;
    // One poller however many streams wait; they resume together once half of it has drained.
    this.roomWaiter ??= new Promise<void>((resolve) => {
      const check = () => {
        if (this.ended || this.transport.bufferedAmount <= TRANSPORT_HIGH_WATER_BYTES / 2) {
          this.roomWaiter = undefined;
          resolve();
        } else setTimeout(check, ROOM_POLL_MS);
      };
      setTimeout(check, ROOM_POLL_MS);
    });
    return this.roomWaiter;
  }

  private firstId(): number {
    return this.options.side === 'server' ? 2 : 1;
  }

  private allocateId(): number {
    // Skipping open ids terminates: fewer than maxStreams of the 2^31 ids of our parity are open.
    for (;;) {
      const id = this.nextId;
      this.nextId += 2;
      if (this.nextId > MAX_STREAM_ID) this.nextId = this.firstId();
      if (!this.streams.has(id)) return id;
    }
  }
}

export { MuxStream, ProtocolError };
