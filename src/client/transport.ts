/**
 * How the client reaches the API server: one JSON call, or one streaming GET
 * (watch, logs). Two implementations share this contract: node-transport.ts
 * (node:http with keep-alive pools, for the CLI, controllers and agents) and
 * fetch-transport.ts (WHATWG fetch, for the browser). This file imports
 * nothing from Node, so the browser entry can use it.
 */
import type { ByteSource } from './ndjson.js';

export type Headers = Record<string, string>;

export interface TransportRequest {
  method: string;
  /** Path and query below the server URL, e.g. `/default/jobs?limit=10`. */
  path: string;
  headers: Headers;
  /** A text body; the transport sets its content-length. */
  body?: string;
  /** Aborting rejects the call (or ends the stream) with the signal's reason. */
  signal?: AbortSignal;
}

export interface BufferedResponse {
  status: number;
  statusText: string;
  /** The whole body, decoded as UTF-8. */
  text: string;
  /** The texts of the response's `Warning: 299 - "..."` headers, if any. */
  warnings?: string[];
}

export interface StreamResponse {
  status: number;
  statusText: string;
  /** The body as it arrives; read it, then call close(). */
  body: ByteSource;
  /** Ends the stream and its connection; safe to call more than once. */
  close(): void;
}

export interface Transport {
  /**
   * One call with the whole response body read. Rejects on connection
   * errors and timeouts (an Error saying which), and on abort (the reason).
   */
  request(request: TransportRequest): Promise<BufferedResponse>;
  /** A streaming call; resolves once the response headers arrive. */
  stream(request: TransportRequest): Promise<StreamResponse>;
  /** Releases pooled connections; calls in flight finish. */
  close(): void;
}

/** A request or stream with no bytes moving for this long fails (both transports). */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** The server URL checked and split into what the transports need. */
export function parseServerUrl(server: string): URL {
  const url = new URL(server);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported server URL scheme: ${url.protocol}`);
  return url;
}

/** The texts of `Warning` header values of code 299 (RFC 7234, as Kubernetes sends them). */
export function parseWarningHeader(value: string | readonly string[] | null | undefined): string[] {
  const values = value === undefined || value === null ? [] : typeof value === 'string' ? [value] : value;
  const out: string[] = [];
  for (const v of values) {
    for (const m of v.matchAll(/299 [^ ]+ "((?:[^"\\]|\\.)*)"/g)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  }
  return out;
}
