/**
 * `skyshift up --tls` / `skyshift server --tls`: a private CA and a server
 * certificate it signed, made once under <data dir>/tls and reused on every
 * restart, for a quick multi-machine setup without a public certificate.
 *   ca.crt      the CA (give it to clients: skyctl's context, `skyshift agent --ca-file`),
 *               or pin its SHA-256 fingerprint (`skyshift agent --fingerprint`)
 *   ca.key      0600; stays here: only this machine signs server certificates
 *   server.crt  the server certificate followed by ca.crt (the chain a pinning client fetches)
 *   server.key  0600
 * The server certificate is re-issued by the same CA (so pins and CA files stay
 * valid) when it lacks a wanted name or address, or expires within 30 days.
 * Built with node:crypto (tls-x509.ts): no openssl needed.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { buildCertificate, newKeyPair, toPem } from './tls-x509.js';

const CA_NAME = 'SkyShift self-signed CA';
const DAY = 24 * 3600 * 1000;
const CA_DAYS = 10 * 365;
const SERVER_DAYS = 2 * 365;
const RENEW_BEFORE_DAYS = 30;

export interface SelfSignedTls {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 of the CA certificate, colon-separated upper-case hex (as openssl and node print it). */
  fingerprint: string;
  /** The names and addresses the server certificate covers. */
  sans: string[];
  cert: Buffer;
  key: Buffer;
  /** What this start did: made the CA, re-issued the server certificate, or reused both. */
  action: 'created' | 'renewed' | 'reused';
}

/** 400-style check of a --tls-san value: an IP address or a DNS name (a leading '*.' allowed). */
export function checkSan(value: string): string {
  const v = value.trim();
  if (isIP(v) !== 0) return v;
  if (v.length <= 253 && /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(v))
    return v.toLowerCase();
  throw new Error(`--tls-san '${value}' is neither an IP address nor a DNS name`);
}

/** The names a server certificate covers by default: loopback, localhost, this host's name and its interface addresses. */
export function defaultSans(): string[] {
  const out = ['127.0.0.1', '::1', 'localhost'];
  try {
    out.push(checkSan(hostname()));
  } catch {
    /* a host name that is no DNS name: skip it */
  }
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal && !a.address.includes('%')) out.push(a.address);
  }
  return out;
}

export function ensureSelfSignedTls(dataDir: string, extraSans: readonly string[] = [], now: Date = new Date()): SelfSignedTls {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = { caFile: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
  const sans = [...new Set([...defaultSans(), ...extraSans.map(checkSan)])];
  let action: SelfSignedTls['action'] = 'reused';

  let ca = loadCa(files.caFile, files.caKey, now);
  if (!ca) {
    const pair = newKeyPair();
    const der = buildCertificate({
      commonName: CA_NAME,
      publicKey: pair.publicKey,
      issuer: { commonName: CA_NAME, ...pair },
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + CA_DAYS * DAY),
      ca: true,
    });
    writeAtomic(files.caKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    writeAtomic(files.caFile, toPem(der), 0o644);
    ca = { cert: new X509Certificate(der), ...pair };
    action = 'created';
  }

  if (action === 'created' || !serverCertFits(files.certFile, files.keyFile, ca.cert, sans, now)) {
    const pair = newKeyPair();
    const der = buildCertificate({
      commonName: 'skyshift',
      publicKey: pair.publicKey,
      issuer: { commonName: CA_NAME, privateKey: ca.privateKey, publicKey: ca.publicKey },
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(Math.min(now.getTime() + SERVER_DAYS * DAY, Date.parse(ca.cert.validTo))),
      ca: false,
      sans,
    });
    writeAtomic(files.keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    writeAtomic(files.certFile, toPem(der) + ca.cert.toString(), 0o644);
    if (action === 'reused') action = 'renewed';
  }
  return {
    dir,
    caFile: files.caFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
    fingerprint: ca.cert.fingerprint256,
    sans: new X509Certificate(readFileSync(files.certFile)).subjectAltName?.split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')) ?? [],
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    action,
  };
}

function loadCa(certFile: string, keyFile: string, now: Date): { cert: X509Certificate; privateKey: KeyObject; publicKey: KeyObject } | undefined {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const privateKey = createPrivateKey(readFileSync(keyFile));
    const publicKey = createPublicKey(privateKey);
    // A CA about to expire is replaced (clients then need the new fingerprint: `up` prints it).
    if (!cert.ca || !cert.checkPrivateKey(privateKey) || Date.parse(cert.validTo) - now.getTime() < RENEW_BEFORE_DAYS * DAY) return undefined;
    return { cert, privateKey, publicKey };
  } catch {
    return undefined;
  }
}

function serverCertFits(certFile: string, keyFile: string, ca: X509Certificate, sans: readonly string[], now: Date): boolean {
  if (!existsSync(certFile) || !existsSync(keyFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))) return false;
    if (Date.parse(cert.validTo) - now.getTime() < RENEW_BEFORE_DAYS * DAY) return false;
    return sans.every((san) => (isIP(san) !== 0 ? cert.checkIP(san) !== undefined : cert.checkHost(san) !== undefined));
  } catch {
    return false;
  }
}

/** Temp file + rename, created with its final mode: a key is never readable by others, not even for a moment. */
function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
