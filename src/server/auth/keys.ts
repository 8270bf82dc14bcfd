/**
 * The token signing key: 32 random bytes (HS256), generated on first start in
 * a 0600 file under the server's data directory. Several API servers behind
 * one load balancer share it by sharing the file.
 */
import { randomBytes } from 'node:crypto';
import { readSecretFile, writeSecretFile } from './files.js';

export function loadOrCreateSigningKey(path: string): Uint8Array {
  const existing = readSecretFile(path);
  if (existing !== undefined) {
    const key = Buffer.from(existing.trim(), 'base64url');
    if (key.length < 32) throw new Error(`signing key ${path} is shorter than 32 bytes; remove it to generate a new one`);
    return new Uint8Array(key);
  }
  const key = randomBytes(32);
  writeSecretFile(path, key.toString('base64url') + '\n');
  return new Uint8Array(key);
}
