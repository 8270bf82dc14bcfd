/**
 * v1 Status objects as the real API server writes them, and the two ways the streams send one before any upgrade:
 * on a ServerResponse (plain request) or as raw HTTP on the socket of an upgrade request (nothing upgraded yet).
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; causes?: StatusCause[] };
  code?: number;
}

/** A Status as an HTTP response body (the API server's encoder adds kind and apiVersion). */
function failure(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const unauthorized = (): Status => failure(401, 'Unauthorized', 'Unauthorized');
export const podNotFound = (name: string): Status => failure(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
export const badRequest = (message: string): Status => failure(400, 'BadRequest', message);
export const upgradeRequired = (): Status => badRequest('Upgrade request required');
export const methodNotAllowed = (): Status => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
/** The WebSocket handshake's refusal of unknown subprotocols (wsstream's handshake; the real server answers 403). */
export const protocolNotSupported = (offered: string[], supported: string[]): Status =>
  failure(403, 'Forbidden', `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);

/**
 * The Statuses written on an exec session's error channel. They go through json.Marshal of metav1.Status in the
 * real server, so they carry no kind/apiVersion (TypeMeta is omitempty) and keep `metadata: {}`.
 */
export const execSuccess = (): Status => ({ metadata: {}, status: 'Success' });

/** What the API server's WebSocket translator writes when the command exits with `code` (client-go reads the cause). */
export function execExitCode(code: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command terminated with exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** apierrors.NewInternalError(err) as marshalled onto the error channel. */
export function internalError(err: string): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${err}`,
    reason: 'InternalError',
    details: { causes: [{ message: err }] },
    code: 500,
  };
}

/** Answers a plain HTTP request with a Status. */
export function sendStatus(res: ServerResponse, status: Status): void {
  const body = JSON.stringify(status);
  res.writeHead(status.code ?? 500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Answers an upgrade request with a Status (or, as the kubelet answers some, plain text) as raw HTTP/1.1, then closes. */
export function rejectUpgrade(socket: Duplex, status: Status, text?: string): void {
  const body = text ?? JSON.stringify(status);
  const code = status.code ?? 500;
  const head = [
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}`,
    `Content-Type: ${text === undefined ? 'application/json' : 'text/plain; charset=utf-8'}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  if (socket.writable) socket.end(head + body);
  else socket.destroy();
}
