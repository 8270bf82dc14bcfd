/**
 * A minimal X.509 v3 certificate builder on node:crypto (ECDSA P-256,
 * SHA-256): enough for `skyshift up --tls` to make its own CA and server
 * certificate without openssl, which users' machines may lack, and without a
 * new dependency. DER is written by hand (the few ASN.1 types a certificate
 * needs); node's own X509Certificate parses and verifies the result in the tests.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// --- DER ---------------------------------------------------------------------

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const octets = (b: Buffer) => der(0x04, b);
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => der(0x01, Buffer.from([v ? 0xff : 0x00]));
const explicit = (n: number, inner: Buffer) => der(0xa0 + n, inner);
/** A BIT STRING of whole bytes (keys, signatures): no unused bits. */
const bits = (b: Buffer, unused = 0) => der(0x03, Buffer.concat([Buffer.from([unused]), b]));

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return der(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDhhmmss
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(iso.slice(2) + 'Z')) : der(0x18, Buffer.from(iso + 'Z'));
}

// --- certificates --------------------------------------------------------------

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const CN = '2.5.4.3';
const ORG = '2.5.4.10';

function name(commonName: string): Buffer {
  return seq(set(seq(oid(ORG), utf8('SkyShift'))), set(seq(oid(CN), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** subjectAltName entries: IP addresses as iPAddress, anything else as dNSName. */
function altNames(sans: readonly string[]): Buffer {
  return seq(
    ...sans.map((san) => {
      const family = isIP(san);
      if (family === 4) return der(0x87, Buffer.from(san.split('.').map(Number)));
      if (family === 6) return der(0x87, ipv6Bytes(san));
      return der(0x82, Buffer.from(san, 'ascii'));
    }),
  );
}

function ipv6Bytes(text: string): Buffer {
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its two 16-bit groups.
  const address = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(':'),
  );
  const [head = '', tail = ''] = address.split('::') as [string, string?];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

export interface CertificateRequest {
  commonName: string;
  publicKey: KeyObject;
  /** The signer: its key and name (the certificate's own for a self-signed CA). */
  issuer: { commonName: string; privateKey: KeyObject; publicKey: KeyObject };
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** DNS names and IP addresses the certificate is valid for (server certificates). */
  sans?: readonly string[];
}

/** A DER certificate signed by `issuer` (ECDSA with SHA-256). */
export function buildCertificate(req: CertificateRequest): Buffer {
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const extensions = [
    // CA: may sign certificates, none below the server's (pathLen 0).
    extension('2.5.29.19', true, req.ca ? seq(bool(true), integer(Buffer.from([0]))) : seq()),
    // keyUsage: CA digitalSignature+keyCertSign+cRLSign (0x86, 1 unused bit); server digitalSignature (0x80, 7 unused).
    extension('2.5.29.15', true, req.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0x80]), 7)),
    extension('2.5.29.14', false, octets(keyId(req.publicKey))),
    extension('2.5.29.35', false, seq(der(0x80, keyId(req.issuer.publicKey)))),
    ...(req.ca ? [] : [extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1')))]),
    ...(req.sans && req.sans.length > 0 ? [extension('2.5.29.17', false, altNames(req.sans))] : []),
  ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(req.issuer.commonName),
    seq(time(req.notBefore), time(req.notAfter)),
    name(req.commonName),
    req.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: req.issuer.privateKey, dsaEncoding: 'der' });
  return seq(tbs, ECDSA_SHA256, bits(signature));
}

export function newKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function toPem(derBytes: Buffer, label = 'CERTIFICATE'): string {
  const lines = derBytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
