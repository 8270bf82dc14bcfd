/**
 * First-start setup, idempotent on every start: default roles (created if
 * absent, never overwritten — an operator may have edited them), the admin
 * user with a generated password written only to a 0600 file, and the
 * controllers' service account with a long-lived token in a 0600 file.
 */
import { randomBytes } from 'node:crypto';
import type { RoleSpec } from '../../api/index.js';
import { readSecretFile, writeSecretFile } from './files.js';
import { hashPassword } from './passwords.js';
import { SERVICE_TOKEN_PREFIX, type AuthService } from './service.js';

export const ADMIN_USER = 'admin';
export const CONTROLLER_USER = 'skyshift-controllers';

const READ = ['get', 'list', 'watch'] as RoleSpec['rules'][number]['actions'];
const ALL = ['*'] as RoleSpec['rules'][number]['actions'];

export const DEFAULT_ROLES: Record<string, RoleSpec> = {
  'admin-role': { namespaces: ['*'], rules: [{ resources: ['*'], actions: ALL }], users: [ADMIN_USER] },
  'reader-role': { namespaces: ['*'], rules: [{ resources: ['*'], actions: READ }], users: [] },
  'inviter-role': { namespaces: ['*'], rules: [{ resources: ['invites'], actions: ['create', 'delete'] }], users: [] },
  // Controllers read everything and write objects and status everywhere; a role of their own keeps them revocable and auditable.
  'controller-role': { namespaces: ['*'], rules: [{ resources: ['*'], actions: ALL }], users: [CONTROLLER_USER] },
};

export async function ensureDefaultRoles(auth: AuthService): Promise<void> {
  for (const [name, spec] of Object.entries(DEFAULT_ROLES)) await auth.directory.createRoleIfAbsent(name, spec);
}

/**
 * Creates `admin` with a random password if no such user exists. The password
 * goes to `passwordFile` (0600) and nowhere else. Returns true if created.
 */
export async function ensureAdmin(auth: AuthService, passwordFile: string): Promise<boolean> {
  if (await auth.directory.userExists(ADMIN_USER)) return false;
  const password = randomBytes(18).toString('base64url');
  const hash = await hashPassword(password);
  // File first: a crash after creating the user must not leave an admin nobody can log in as.
  writeSecretFile(passwordFile, password + '\n');
  if (!(await auth.directory.createUser(ADMIN_USER, { type: 'user' }))) return false; // another server won the race
  await auth.secrets.setPasswordHash(ADMIN_USER, hash);
  return true;
}

/**
 * The controllers' service account and its token. The token in `tokenFile` is
 * reused while the server still knows its digest; otherwise a new one is made.
 */
export async function ensureControllerToken(auth: AuthService, tokenFile: string): Promise<string> {
  await auth.directory.createUser(CONTROLLER_USER, { type: 'serviceaccount' });
  const existing = readSecretFile(tokenFile)?.trim();
  if (existing && (await auth.secrets.tokenUser(existing)) === CONTROLLER_USER) return existing;
  const token = SERVICE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  await auth.secrets.addToken(CONTROLLER_USER, token);
  writeSecretFile(tokenFile, token + '\n');
  return token;
}
