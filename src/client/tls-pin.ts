/**
 * How a `skyshift agent` (or any Node client) verifies an HTTPS API server
 * whose certificate no public CA signed, e.g. one made by `skyshift up --tls`:
 *   --ca-file F        the CA's PEM: normal verification against it
 *   --fingerprint SHA  the CA's SHA-256 as printed by `skyshift up --tls` /
 *                      `skyctl create cluster --agent`: the CA is fetched from
 *                      the server's own chain, accepted only if its SHA-256
 *                      equals the pin, and then used exactly like --ca-file
 *                      (full chain and host name verification on every connection)
 * Neither: the system's CAs. Verification is never skipped; a mismatch is an
 * error naming both fingerprints.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import type { TlsOptions } from './node-transport.js';

export interface ServerVerification {
  /** The API server URL (https://...). */
  server: string;
  caFile?: string;
  fingerprint?: string;
  /** Bounds the fetch of the chain for a pin (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** `AB:CD:...` (upper-case, colon-separated: node's and openssl's form) from any spelling: colons or not, any case, an optional `sha256:` prefix. */
export function normalizeFingerprint(text: string): string {
  const hex = text
    .trim()
    .replace(/^sha-?256[:=]/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new Error(`'${text.slice(0, 100)}' is not a SHA-256 fingerprint (64 hex digits, colons optional)`);
  return hex.match(/../g)!.join(':');
}

/** SHA-256 fingerprint of the first certificate in `pem`. */
export function fingerprintOf(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * The TLS options the agent's clients (REST and tunnel) use for `server`, or
 * undefined for plain defaults (system CAs). Throws when the flags cannot be
 * honoured: a pin or CA for an http:// server, an unreadable CA, a pin the
 * server's chain does not contain.
 */
export async function serverTls(options: ServerVerification): Promise<TlsOptions | undefined> {
  const url = new URL(options.server);
  const wanted = options.fingerprint !== undefined ? normalizeFingerprint(options.fingerprint) : undefined;
  if (url.protocol !== 'https:') {
    if (options.caFile !== undefined || wanted !== undefined)
      throw new Error(`--ca-file and --fingerprint verify an https:// server; ${url.origin} is not one`);
    return undefined;
  }
  if (options.caFile !== undefined) {
    const ca = readFileSync(options.caFile);
    if (wanted !== undefined && fingerprintOf(ca) !== wanted) {
      throw new Error(`the CA in ${options.caFile} has fingerprint ${fingerprintOf(ca)}, not the expected ${wanted}`);
    }
    return { ca };
  }
  if (wanted !== undefined) return { ca: await pinnedCa(url, wanted, options.timeoutMs ?? 10_000, options.signal) };
  return undefined;
}

/**
 * Connects once without trusting anything, takes the certificate whose
 * SHA-256 is `fingerprint` from the chain the server presents, and returns it
 * as PEM. Nothing is sent on that connection: it only reads the chain.
 */
export function pinnedCa(url: URL, fingerprint: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) === 0 ? { servername: host } : {}) });
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAbort = () => fail(new Error('aborted'));
    const timer = setTimeout(() => fail(new Error(`no TLS handshake with ${url.host} within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => fail(new Error(`TLS connection to ${url.host} failed: ${err.message}`)));
    socket.once('secureConnect', () => {
      const seen: string[] = [];
      let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert && cert.raw) {
        seen.push(cert.fingerprint256);
        if (cert.fingerprint256 === fingerprint) {
          const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw
            .toString('base64')
            .match(/.{1,64}/g)!
            .join('\n')}\n-----END CERTIFICATE-----\n`;
          cleanup();
          resolve(pem);
          return;
        }
        const next: PeerCertificate | undefined = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
        cert = next && next !== cert && next.fingerprint256 !== cert.fingerprint256 ? next : undefined;
      }
      fail(
        new Error(
          `${url.host} presented no certificate with fingerprint ${fingerprint} (it sent ${seen.join(', ') || 'none'}): refusing to connect — wrong server, a changed CA, or someone in between`,
        ),
      );
    });
  });
}
