/**
 * One stream of the tunnel: messages (a channel byte and bytes) each way,
 * with credit-based flow control so that neither side buffers more than a
 * window of a stream's data, whatever the other does.
 *
 * - Sending: a DATA frame goes out only while the peer has granted credit for
 *   it; a writer waits otherwise. Writes are never split by credit (only into
 *   MAX_DATA_BYTES pieces), so a write up to that size is one message.
 * - Receiving: DATA beyond the credit granted is a violation that resets the
 *   stream; consumed bytes are given back (WINDOW) in quarter-window batches.
 * - A stalled stream holds only its own window: the others keep flowing.
 */
import { ApiError, REASON_CODES, type Reason } from '../../api/index.js';
import { encodeClose, encodeData, encodeReset, encodeWindow, MAX_DATA_BYTES } from './frames.js';

export interface Message {
  channel: number;
  data: Uint8Array;
}

/** What a stream needs from its multiplexer. */
export interface StreamHost {
  send(frame: Buffer): void;
  /** The stream is over: its id may be used again (much later). */
  forget(id: number): void;
  /** Undefined while the transport has room for more DATA; otherwise resolves once it has (or the tunnel ended). */
  room(): Promise<void> | undefined;
}

/** A peer's reason string, as one the API knows (a peer cannot invent status codes). */
export function toReason(reason: string): Reason {
  // An agent's internal failure is the API server's unavailable backend, never its own 500.
  return Object.hasOwn(REASON_CODES, reason) && reason !== 'InternalError' ? (reason as Reason) : 'ServiceUnavailable';
}

/**
 * What one DATA frame costs against the window: its bytes plus a fixed
 * amount, so a window of tiny frames (each a queued object) is bounded too.
 */
export const FRAME_COST_BYTES = 64;
const cost = (n: number) => n + FRAME_COST_BYTES;

export class MuxStream {
  /**
   * Aborted (with the ApiError) when the stream fails: reset by either side or
   * the tunnel dropped. Not on a clean end, whose unread data is still to be used.
   */
  readonly signal: AbortSignal;
  private readonly failure = new AbortController();
  private over = false;
  private queue: Message[] = [];
  private waiters: (() => void)[] = [];
  private sendCredit: number;
  /** Bytes the peer may still send before it has to wait for our WINDOW. */
  private recvAllowed: number;
  /** Bytes consumed but not yet given back. */
  private returnable = 0;
  private writing: Promise<void> = Promise.resolve();
  private localClosed = false;
  private remoteClosed = false;
  private error: ApiError | undefined;

  constructor(
    readonly id: number,
    /** What the opener asked for (OPEN's JSON). */
    readonly request: unknown,
    private readonly host: StreamHost,
    private readonly window: number,
  ) {
    this.signal = this.failure.signal;
    this.sendCredit = window;
    this.recvAllowed = window;
  }

  /** Both sides closed, or failed: the stream is out of its multiplexer's table. */
  get finished(): boolean {
    return this.over;
  }

  /** Sends `data` on `channel`, waiting for credit; rejects once the stream is reset or closed by us. */
  write(data: Uint8Array, channel = 0): Promise<void> {
    const p = this.writing.then(() => this.writeNow(data, channel));
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Half-close: after the writes already queued, the peer gets CLOSE and we send nothing more. */
  close(): Promise<void> {
    const p = this.writing.then(() => {
      if (this.localClosed || this.error) return;
      this.localClosed = true;
      this.host.send(encodeClose(this.id));
      if (this.remoteClosed) this.finish(undefined);
    });
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Ends the stream at once both ways, telling the peer why. */
  reset(reason: Reason = 'ServiceUnavailable', message = 'stream cancelled'): void {
    if (this.finished) return;
    this.host.send(encodeReset(this.id, reason, message));
    this.finish(new ApiError(reason, message));
  }

  /** The next message; undefined once the peer closed its side and everything was read; throws after a reset. */
  async read(): Promise<Message | undefined> {
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        this.consumed(cost(m.data.byteLength));
        return m;
      }
      if (this.error) throw this.error;
      if (this.remoteClosed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Message> {
    for (let m = await this.read(); m; m = await this.read()) yield m;
  }

  // --- called by the multiplexer ---

  /** @internal */
  onData(channel: number, data: Uint8Array): void {
    if (this.finished) return;
    if (this.remoteClosed) return this.reset('BadRequest', `tunnel stream ${this.id}: DATA after CLOSE`);
    if (cost(data.byteLength) > this.recvAllowed) return this.reset('BadRequest', `tunnel stream ${this.id}: peer sent beyond its flow-control window`);
    this.recvAllowed -= cost(data.byteLength);
    // A view that is most of its buffer is kept as is; a small one is copied, so that queued bytes
    // (bounded by the window) never pin much larger socket buffers.
    this.queue.push({ channel, data: data.byteLength * 2 >= data.buffer.byteLength ? data : new Uint8Array(data) });
    this.wake();
  }

  /** @internal */
  onWindow(credit: number): void {
    if (this.finished) return;
    this.sendCredit += credit;
    // More credit than a window outstanding means the peer is not counting as we do.
    if (this.sendCredit > this.window) return this.reset('BadRequest', `tunnel stream ${this.id}: peer granted more credit than the window`);
    this.wake();
  }

  /** @internal */
  onClose(): void {
    if (this.finished || this.remoteClosed) return;
    this.remoteClosed = true;
    this.wake();
    if (this.localClosed) this.finish(undefined);
  }

  /** @internal The peer reset the stream, or the tunnel is gone: fail without telling the peer. */
  fail(error: ApiError): void {
    if (!this.finished) this.finish(error);
  }

  private async writeNow(data: Uint8Array, channel: number): Promise<void> {
    for (let offset = 0; offset < data.byteLength;) {
      if (this.error) throw this.error;
      if (this.localClosed) throw new ApiError('Conflict', `tunnel stream ${this.id} is closed for writing`);
      const n = Math.min(MAX_DATA_BYTES, data.byteLength - offset);
      if (this.sendCredit < cost(n)) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      // The link itself is slower than the streams together: wait for it (credit bounds each stream, this the sum).
      const full = this.host.room();
      if (full) {
        await full;
        continue;
      }
      this.host.send(encodeData(this.id, channel, data.subarray(offset, offset + n)));
      this.sendCredit -= cost(n);
      offset += n;
    }
  }

  private consumed(n: number): void {
    this.returnable += n;
    if (this.finished || this.remoteClosed || this.returnable < this.window / 4) return;
    this.host.send(encodeWindow(this.id, this.returnable));
    this.recvAllowed += this.returnable;
    this.returnable = 0;
  }

  private finish(error: ApiError | undefined): void {
    this.over = true;
    if (error) {
      this.error = error;
      this.queue = [];
      this.failure.abort(error);
    }
    this.host.forget(this.id);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
