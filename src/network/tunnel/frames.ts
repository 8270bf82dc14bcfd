/**
 * The tunnel's wire format: one frame per binary WebSocket message.
 *
 *   byte 0      type (OPEN, DATA, WINDOW, CLOSE, RESET)
 *   bytes 1..4  stream id, uint32 big-endian (never 0)
 *   OPEN        the request, UTF-8 JSON (at most MAX_OPEN_BYTES)
 *   DATA        byte 5 = channel, then the bytes (at most MAX_DATA_BYTES)
 *   WINDOW      uint32: credit the receiver gives back to the sender (a DATA
 *               frame costs its bytes + 64, see stream.ts)
 *   CLOSE       empty: the sender sends no more DATA on the stream (half-close)
 *   RESET       UTF-8 JSON {reason, message}: the stream ends at once, both ways
 *
 * Sizes are bounded on both ends so a peer cannot make the other allocate in
 * proportion to anything it chose.
 */

export const FRAME = { open: 1, data: 2, window: 3, close: 4, reset: 5 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

/** Largest payload of one DATA frame; larger writes are split. */
export const MAX_DATA_BYTES = 64 * 1024;
/** Largest OPEN request. */
export const MAX_OPEN_BYTES = 16 * 1024;
/** Largest RESET payload (longer messages are cut). */
export const MAX_RESET_BYTES = 4 * 1024;
/** Largest frame either side accepts: anything bigger is a protocol error that ends the tunnel. */
export const MAX_FRAME_BYTES = 6 + MAX_DATA_BYTES;
export const MAX_STREAM_ID = 0xffff_ffff;

export type Frame =
  | { type: typeof FRAME.open; id: number; request: unknown }
  | { type: typeof FRAME.data; id: number; channel: number; data: Uint8Array }
  | { type: typeof FRAME.window; id: number; credit: number }
  | { type: typeof FRAME.close; id: number }
  | { type: typeof FRAME.reset; id: number; reason: string; message: string };

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

function header(type: FrameType, id: number, payload: number): Buffer {
  const buf = Buffer.allocUnsafe(5 + payload);
  buf[0] = type;
  buf.writeUInt32BE(id, 1);
  return buf;
}

export function encodeOpen(id: number, request: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(request) ?? 'null', 'utf8');
  if (json.length > MAX_OPEN_BYTES) throw new ProtocolError(`stream request of ${json.length} bytes exceeds ${MAX_OPEN_BYTES}`);
  const buf = header(FRAME.open, id, json.length);
  json.copy(buf, 5);
  return buf;
}

export function encodeData(id: number, channel: number, data: Uint8Array): Buffer {
  if (data.byteLength > MAX_DATA_BYTES) throw new ProtocolError(`DATA frame of ${data.byteLength} bytes exceeds ${MAX_DATA_BYTES}`);
  const buf = header(FRAME.data, id, 1 + data.byteLength);
  buf[5] = channel & 0xff;
  buf.set(data, 6);
  return buf;
}

export function encodeWindow(id: number, credit: number): Buffer {
  const buf = header(FRAME.window, id, 4);
  buf.writeUInt32BE(credit, 5);
  return buf;
}

export function encodeClose(id: number): Buffer {
  return header(FRAME.close, id, 0);
}

export function encodeReset(id: number, reason: string, message: string): Buffer {
  let json = Buffer.from(JSON.stringify({ reason, message }), 'utf8');
  if (json.length > MAX_RESET_BYTES) json = Buffer.from(JSON.stringify({ reason, message: message.slice(0, MAX_RESET_BYTES / 4) + '...' }), 'utf8');
  const buf = header(FRAME.reset, id, json.length);
  json.copy(buf, 5);
  return buf;
}

/** Parses one frame; throws ProtocolError for anything malformed (the caller ends the tunnel). */
export function decodeFrame(buf: Uint8Array): Frame {
  if (buf.byteLength < 5) throw new ProtocolError(`frame of ${buf.byteLength} bytes is shorter than its header`);
  if (buf.byteLength > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${buf.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = b[0];
  const id = b.readUInt32BE(1);
  if (id === 0) throw new ProtocolError('stream id 0 is not allowed');
  const payload = b.subarray(5);
  switch (type) {
    case FRAME.open:
      if (payload.length > MAX_OPEN_BYTES) throw new ProtocolError(`OPEN of ${payload.length} bytes exceeds ${MAX_OPEN_BYTES}`);
      return { type, id, request: parseJson(payload, 'OPEN') };
    case FRAME.data:
      if (payload.length < 1) throw new ProtocolError('DATA frame without a channel');
      return { type, id, channel: payload[0]!, data: payload.subarray(1) };
    case FRAME.window:
      if (payload.length !== 4) throw new ProtocolError('WINDOW frame must carry 4 bytes');
      return { type, id, credit: payload.readUInt32BE(0) };
    case FRAME.close:
      if (payload.length !== 0) throw new ProtocolError('CLOSE frame must be empty');
      return { type, id };
    case FRAME.reset: {
      if (payload.length > MAX_RESET_BYTES) throw new ProtocolError(`RESET of ${payload.length} bytes exceeds ${MAX_RESET_BYTES}`);
      const body = parseJson(payload, 'RESET');
      const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      return {
        type,
        id,
        reason: typeof o.reason === 'string' ? o.reason : 'InternalError',
        message: typeof o.message === 'string' ? o.message : 'stream reset',
      };
    }
    default:
      throw new ProtocolError(`unknown frame type ${String(type)}`);
  }
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProtocolError(`${what} frame carries malformed JSON`);
  }
}
