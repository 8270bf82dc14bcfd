/**
 * Errors Node's HTTP parser raises before Fastify ever sees a request: a
 * malformed request line, bad chunked encoding, Content-Length together with
 * Transfer-Encoding, an unknown method, headers past the size limit. There is
 * no request or reply object, so the Status response is written to the socket
 * by hand; a client must get a Status body here like everywhere else.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from '../api/index.js';

type ClientError = Error & { code?: string; reason?: unknown };

/** Fastify's `clientErrorHandler`. */
export function clientErrorHandler(err: ClientError, socket: Socket): void {
  // Connection reset: nobody is listening for an answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way on this socket (pipelining) must not be
  // corrupted by a second status line; Node's own handler makes the same check.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { code, message } = describeClientError(err);
  socket.end(rawStatusResponse(code, message), () => socket.destroy());
}

/** The HTTP code and a message naming the problem (parser messages carry no client data). */
export function describeClientError(err: ClientError): { code: number; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 431, message: `request line and headers are larger than the limit of ${maxHeaderSize} bytes` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 408, message: 'the request was not received in time' };
    case 'HPE_INVALID_METHOD':
      return { code: 400, message: 'unknown HTTP method' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { code: 400, message: 'Content-Length and Transfer-Encoding must not both be set' };
    case 'HPE_INVALID_CHUNK_SIZE':
      return { code: 400, message: 'malformed chunked body: invalid chunk size' };
  }
  const reason = typeof err.reason === 'string' && err.reason !== '' ? err.reason : undefined;
  return { code: 400, message: `malformed HTTP request${reason ? `: ${reason}` : ''}${err.code ? ` (${err.code})` : ''}` };
}

/**
 * A complete HTTP/1.1 response carrying a Status. DESIGN's reasons have no
 * entry for 408 or 431, so those keep the HTTP code with reason BadRequest
 * (the Status code always equals the HTTP status).
 */
export function rawStatusResponse(code: number, message: string): string {
  const body = JSON.stringify({ ...new ApiError('BadRequest', message).toStatus(), code });
  return (
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Bad Request'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n' +
    '\r\n' +
    body
  );
}
