/**
 * Low-level HTTP helpers for black-box API tests. Uses node:http (not fetch) so
 * paths are sent exactly as written (no `..` or %2e%2e normalisation) and any
 * method can be used; `rawRequest` writes arbitrary bytes to a TCP socket for
 * requests node:http refuses to produce.
 */
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Set when no complete response arrived (reset, timeout, ...). */
  error?: string;
}

export interface SendOptions {
  method: string;
  path: string;
  headers?: Record<string, string | number | string[]>;
  body?: string | Buffer;
  timeoutMs?: number;
  agent?: Agent;
  /** Stop reading after the headers (for watch requests that might stream forever). */
  headersOnly?: boolean;
}

/** Send one request; never throws: network problems come back as `error`. */
export function send(baseUrl: string, options: SendOptions): Promise<HttpResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: HttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const headers: Record<string, string | number | string[]> = { ...(options.headers ?? {}) };
    if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')) {
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers,
        agent: options.agent ?? false,
        insecureHTTPParser: true,
      });
    } catch (err) {
      resolve({ status: 0, headers: {}, body: '', error: `client refused: ${(err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
    }, options.timeoutMs ?? 10_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      if (options.headersOnly) {
        // Read whatever arrives within a short grace period, then stop.
        res.on('data', (c: Buffer) => chunks.push(c));
        const finish = () => {
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.destroy();
          req.destroy();
        };
        res.on('end', finish);
        res.on('error', finish);
        setTimeout(finish, 300);
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: `response: ${err.message}` }),
      );
    });
    req.on('error', (err) => done({ status: 0, headers: {}, body: '', error: err.message }));
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

/** Write raw bytes to the server and parse whatever HTTP response comes back. */
export function rawRequest(baseUrl: string, bytes: Buffer | string, timeoutMs = 5000): Promise<HttpResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const sock = connect({ host: url.hostname, port: Number(url.port) });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const parsed = parseRawResponse(Buffer.concat(chunks));
      if (!parsed) resolve({ status: 0, headers: {}, body: Buffer.concat(chunks).toString('latin1').slice(0, 200), error: error ?? 'no HTTP response' });
      else resolve(parsed);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const parsed = parseRawResponse(Buffer.concat(chunks));
      if (parsed && parsed.complete) {
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(parsed);
      }
    });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (err) => finish(err.message));
    sock.write(bytes);
  });
}

function parseRawResponse(buf: Buffer): (HttpResult & { complete: boolean }) | undefined {
  // Skip interim 1xx responses (e.g. 100 Continue).
  while (/^HTTP\/1\.[01] 1\d\d/.test(buf.toString('latin1', 0, 16))) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    buf = buf.subarray(end + 4);
  }
  const text = buf.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = text.slice(0, headEnd).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(headEnd + 4);
  let body = '';
  let complete = false;
  const cl = headers['content-length'];
  if (typeof cl === 'string') {
    const n = Number(cl);
    body = rest.subarray(0, n).toString('utf8');
    complete = rest.length >= n;
  } else if (String(headers['transfer-encoding'] ?? '').includes('chunked')) {
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', pos);
      if (eol < 0) break;
      const size = parseInt(rest.subarray(pos, eol).toString('latin1'), 16);
      if (!Number.isFinite(size)) break;
      if (size === 0) {
        complete = true;
        break;
      }
      if (rest.length < eol + 2 + size) break;
      out.push(rest.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
    body = Buffer.concat(out).toString('utf8');
  } else {
    body = rest.toString('utf8');
  }
  return { status: Number(m[1]), headers, body, complete };
}

/** Reasons DESIGN.md section 3 allows, plus the 4xx reasons the fixed contract in src/api/errors.ts adds. */
export const DESIGN_REASONS = [
  'BadRequest',
  'Invalid',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Gone',
  'RequestEntityTooLarge',
  'UnsupportedMediaType',
  'InternalError',
] as const;
export const CONTRACT_EXTRA_REASONS = ['MethodNotAllowed', 'Expired', 'TooManyRequests'] as const;

/** Reasons that must go with a given HTTP code (codes not listed: any allowed reason). */
const REASONS_FOR_CODE: Record<number, string[]> = {
  400: ['BadRequest', 'Invalid'],
  401: ['Unauthorized'],
  403: ['Forbidden'],
  404: ['NotFound'],
  405: ['MethodNotAllowed', 'BadRequest'],
  409: ['AlreadyExists', 'Conflict'],
  410: ['Gone', 'Expired'],
  413: ['RequestEntityTooLarge'],
  415: ['UnsupportedMediaType'],
  422: ['Invalid', 'BadRequest'],
};

/**
 * Problems with a response that must be a client-error Status. Empty array = fine.
 * `expect` optionally restricts the allowed HTTP codes.
 */
export function statusProblems(r: HttpResult, expect?: readonly number[]): string[] {
  const problems: string[] = [];
  if (r.error && r.status === 0) return [`no response (${r.error})`];
  if (r.status < 400) return [`HTTP ${r.status} (want 4xx)`];
  if (r.status >= 500) problems.push(`HTTP ${r.status} (want 4xx)`);
  if (expect && !expect.includes(r.status)) problems.push(`HTTP ${r.status} (want ${expect.join('|')})`);
  const ct = String(r.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(ct)) problems.push(`content-type '${ct}'`);
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    problems.push('body not JSON');
    return problems;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.push('body not an object');
    return problems;
  }
  const s = body as Record<string, unknown>;
  if (s.kind !== 'Status') problems.push(`kind=${JSON.stringify(s.kind)}`);
  if (s.status !== 'Failure') problems.push(`status=${JSON.stringify(s.status)}`);
  if (s.code !== r.status) problems.push(`code=${JSON.stringify(s.code)}≠${r.status}`);
  const allowed: readonly string[] = [...DESIGN_REASONS, ...CONTRACT_EXTRA_REASONS];
  if (typeof s.reason !== 'string' || !allowed.includes(s.reason)) problems.push(`reason=${JSON.stringify(s.reason)} not in DESIGN list`);
  else {
    const forCode = REASONS_FOR_CODE[r.status];
    if (forCode && !forCode.includes(s.reason)) problems.push(`reason ${s.reason} does not fit HTTP ${r.status}`);
  }
  if (typeof s.message !== 'string' || s.message.trim() === '') problems.push('empty message');
  return problems;
}

export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', ...extra };
}

/** Small helper for well-formed JSON calls in conformance tests. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string; json: any }> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const r = await send(baseUrl, {
    method,
    path,
    headers: payload === undefined ? {} : { 'content-type': contentType },
    body: payload,
  });
  if (r.status === 0) throw new Error(`${method} ${path}: ${r.error}`);
  let json: any;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text: r.body, json };
}
