/**
 * Requests to one Kubernetes API server with the kubeconfig's credentials.
 *
 * client-node's KubeConfig does the hard parts (TLS material, tokens, exec
 * and OIDC auth plugins: applyToHTTPSOptions is asked again on every request
 * so a refreshed token is used); the request itself goes through node:http(s)
 * here because every call needs an AbortSignal and a deadline, which the
 * generated clients and Watch do not give (a watch on a hung API server
 * would otherwise wait forever), and one keep-alive agent per cluster instead
 * of a new TLS connection per call.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ManagerError } from '../errors.js';

/** Deadline of one non-streaming request (the original's CLUSTER_TIMEOUT). */
export const REQUEST_TIMEOUT_MS = 10_000;

export class KubeRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, 0 when the server was not reached. */
    readonly code: number,
    /** The Status reason (NotFound, AlreadyExists, Expired...). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Deadline for the response headers (streams) or the whole body (JSON). Default REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
}

export class KubeRest {
  private agent: http.Agent | undefined;

  constructor(
    private readonly kubeconfig: KubeConfig,
    readonly server: string,
  ) {}

  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const deadline = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const res = await this.open(path, { ...options, signal });
    const text = await readBody(res, signal);
    if ((res.statusCode ?? 0) >= 300) throw statusError(res.statusCode ?? 0, text, path);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** A streaming GET (watch, log follow): resolves with the response once its headers arrive. */
  async stream(path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.open(path, options);
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readBody(res, options.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      throw statusError(res.statusCode ?? 0, text, path);
    }
    return res;
  }

  close(): void {
    this.agent?.destroy();
  }

  private async open(path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const auth: https.RequestOptions = {};
    await this.kubeconfig.applyToHTTPSOptions(auth);
    this.agent ??= keepAlive(auth.agent, url.protocol);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    // applyToHTTPSOptions sets a header object (its type also allows a raw array, which it never uses).
    if (auth.headers && !Array.isArray(auth.headers)) Object.assign(headers, auth.headers);
    if (auth.auth) headers['authorization'] = `Basic ${Buffer.from(auth.auth).toString('base64')}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const signal = options.signal;
    const headerDeadline = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers, agent: this.agent }, resolve);
      const fail = (err: unknown) => reject(unreachable(this.server, err));
      req.on('error', fail);
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const onDeadline = () => req.destroy(new Error(`no response within ${options.timeoutMs ?? REQUEST_TIMEOUT_MS} ms`));
      signal?.addEventListener('abort', onAbort, { once: true });
      headerDeadline.addEventListener('abort', onDeadline, { once: true });
      req.on('response', (res) => {
        headerDeadline.removeEventListener('abort', onDeadline);
        res.on('close', () => signal?.removeEventListener('abort', onAbort));
      });
      req.end(payload);
    });
  }
}

/** The kubeconfig's agent settings (CA, client certificate, proxy) with keep-alive, created once per cluster. */
function keepAlive(agent: unknown, protocol: string): http.Agent {
  if (agent instanceof https.Agent) return new https.Agent({ ...agent.options, keepAlive: true });
  if (agent instanceof http.Agent) {
    // A proxy agent (not a plain Agent subclass we can copy) is used as it is.
    if (agent.constructor !== http.Agent) return agent;
    return new http.Agent({ keepAlive: true });
  }
  return protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}

async function readBody(res: http.IncomingMessage, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  const onAbort = () => res.destroy(new Error('response not complete in time'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Kubernetes Status body -> an error carrying its code, reason and message. */
export function statusError(code: number, text: string, path: string): KubeRequestError {
  let message = text.slice(0, 300);
  let reason: string | undefined;
  try {
    const status = JSON.parse(text) as { message?: string; reason?: string };
    if (status.message) message = status.message;
    reason = status.reason;
  } catch {
    /* not JSON: keep the text */
  }
  return new KubeRequestError(`${message || `HTTP ${code}`} (${path.split('?')[0]})`, code, reason);
}

function unreachable(server: string, err: unknown): KubeRequestError {
  const text = err instanceof Error ? err.message : String(err);
  return new KubeRequestError(`cannot reach the Kubernetes API server at ${server}: ${text}`, 0);
}

/** A request error -> the ManagerError the API answers (unreachable: 503; otherwise the server's own words). */
export function managerError(cluster: string, err: unknown): ManagerError {
  if (err instanceof ManagerError) return err;
  if (err instanceof KubeRequestError) {
    const reason = err.code === 0 || err.code >= 500 ? 'ServiceUnavailable' : err.code === 404 ? 'NotFound' : err.code === 409 ? 'Conflict' : 'BadRequest';
    return new ManagerError(reason, `cluster '${cluster}': ${err.message}`);
  }
  return new ManagerError('ServiceUnavailable', `cluster '${cluster}': ${err instanceof Error ? err.message : String(err)}`);
}
