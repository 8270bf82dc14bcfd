/** Typed calls for the account routes of the API server (src/server/auth/routes.ts). */
import type { RestClient } from './client.js';

export interface LoginResult {
  user: string;
  token: string;
  expiresAt: string;
}

export interface InviteResult {
  id: string;
  token: string;
  roles: string[];
  expiresAt: string;
}

export interface RegisterResult {
  user: string;
  roles: string[];
  skippedRoles: string[];
}

export interface WhoAmI {
  user: string;
  type: string;
  roles: string[];
  namespaces: string[];
}

export function login(client: RestClient, username: string, password: string): Promise<LoginResult> {
  return client.call('POST', '/login', { username, password });
}

export function register(client: RestClient, input: { username: string; password: string; invite: string; email?: string }): Promise<RegisterResult> {
  return client.call('POST', '/register', input);
}

export function createInvite(client: RestClient, roles: string[]): Promise<InviteResult> {
  return client.call('POST', '/invites', { roles });
}

/** `idOrToken`: the invite's id or its token. */
export function revokeInvite(client: RestClient, idOrToken: string): Promise<{ id: string; revoked: boolean; used: boolean }> {
  return client.call('DELETE', `/invites/${encodeURIComponent(idOrToken)}`);
}

export function whoami(client: RestClient): Promise<WhoAmI> {
  return client.call('GET', '/whoami');
}
