/**
 * SkyShift's version: package.json's, read once. The one place it comes from
 * (`skyshift --version`, `skyctl version`, the API's /version and OpenAPI).
 * Node only (it reads a file); src/ and dist/ sit at the same depth, so the
 * relative path holds for both.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

export const VERSION = readVersion();
