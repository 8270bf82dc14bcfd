/**
 * A fetch for HTTPS servers with a private CA or a self-signed certificate.
 * Node's global fetch (undici) takes no CA per request without the undici
 * package, so this speaks node:https and wraps the answer in a web Response
 * (streaming: watches and logs work unchanged).
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export interface TlsOptions {
  /** PEM CA bundle that signed the server's certificate. */
  ca?: string | Buffer;
  /** Accept any certificate: encryption without authentication of the server. */
  insecureSkipTlsVerify?: boolean;
}

export function tlsFetch(tls: TlsOptions): typeof globalThis.fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const headers = new Headers(init.headers);
      const body = typeof init.body === 'string' ? init.body : undefined;
      if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: init.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          ...(url.protocol === 'https:' ? { ca: tls.ca, rejectUnauthorized: !tls.insecureSkipTlsVerify } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 502;
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const item of v) out.append(k, item);
            else if (v !== undefined) out.set(k, v);
          }
          const nullBody = status === 204 || status === 304 || init.method === 'HEAD';
          if (nullBody) res.resume();
          resolve(
            new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? '',
              headers: out,
            }),
          );
        },
      );
      req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
      if (body !== undefined) req.write(body);
      req.end();
    });
}
