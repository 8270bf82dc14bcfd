/**
 * Password hashing with argon2id at OWASP's minimum parameters (19 MiB, t=2,
 * p=1: ~85 ms). The hash string never leaves this module's callers' secret
 * store; nothing here logs.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';

// `Algorithm` is a const enum that isolatedModules cannot inline; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Verifies `password` against `stored`; with no stored hash (unknown user) it
 * still runs one full verification against a throwaway hash, so the answer
 * takes as long whether or not the user exists.
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  dummy ??= hashPassword('not-a-real-password-' + Math.random());
  const target = stored ?? (await dummy);
  let ok = false;
  try {
    ok = await verify(target, password);
  } catch {
    ok = false; // a corrupt stored hash is a failed login, not a 500
  }
  return ok && stored !== undefined;
}

/** Computes the throwaway hash at start, so the first unknown-user login is not faster than later ones. */
export async function warmUpPasswords(): Promise<void> {
  await verifyPassword(undefined, 'warm-up');
}
