/**
 * Authentication, authorisation and the account flows (login, register,
 * invites, user deletion). Transport-free: routes.ts and hook.ts adapt it to
 * HTTP. Every error a client sees is an ApiError whose message names no
 * secret and, for login, not even whether the user exists.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, invalid, type UserSpec } from '../../api/index.js';
import type { Store } from '../store.js';
import { AgentTokens, agentTokenTtl, checkClusterName } from './agent-tokens.js';
import { Directory } from './directory.js';
import { createAuthMetrics, type AuthMetrics } from './metrics.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hashPassword, verifyPassword } from './passwords.js';
import { allows, covers, rolesOf, type Request, type RoleView } from './rbac.js';
import { Secrets, type InviteRecord } from './secrets.js';
import { Throttle, type ThrottleOptions } from './throttle.js';
import { SERVICE_RECHECK_MS, TokenCache, type CachedToken } from './token-cache.js';
import { TokenSigner, unverifiedInviteNonce } from './tokens.js';
import { StoreView, type AccessSnapshot, type AccessView } from './view.js';

/** Service-account tokens are random, not JWTs; the prefix tells them apart at a glance. */
export const SERVICE_TOKEN_PREFIX = 'sks_';

export interface Principal {
  user: string;
  /** Set for a `skyshift agent` join token: the one cluster this principal may act for (DESIGN section 12). */
  agentCluster?: string;
}

export interface AuthServiceOptions {
  store: Store;
  signingKey: Uint8Array;
  /** Lifetime of login tokens (default 24 h). */
  tokenTtlSeconds?: number;
  /** Lifetime of invites (default 7 days). */
  inviteTtlSeconds?: number;
  /** Verified tokens kept in memory (default 10,000). */
  tokenCacheSize?: number;
  throttle?: Partial<ThrottleOptions>;
  now?: () => Date;
}

export class LoginThrottled extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super('TooManyRequests', `too many failed logins; retry in ${retryAfterSeconds} s`);
  }
}

// Worded without the word 'password' so no response body ever contains it (tests grep for it).
const BAD_LOGIN = 'login failed: unknown user or wrong credentials';
const BAD_INVITE = 'invite is invalid, expired, used or revoked';
const BAD_TOKEN = 'invalid or expired token: log in again (skyctl login)';

export class AuthService {
  readonly directory: Directory;
  readonly secrets: Secrets;
  readonly signer: TokenSigner;
  readonly metrics: AuthMetrics = createAuthMetrics();
  readonly agents: AgentTokens;
  /** What the gate reads roles and users from: the store until `attach` hands it the server's caches. */
  private view: AccessView;
  private readonly tokens: TokenCache;
  private readonly userThrottle: Throttle;
  private readonly addressThrottle: Throttle;
  private readonly tokenTtl: number;
  private readonly inviteTtl: number;
  private readonly now: () => Date;

  constructor(options: AuthServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.directory = new Directory(options.store, this.now);
    this.secrets = new Secrets(options.store);
    this.signer = new TokenSigner(options.signingKey, this.now);
    this.view = new StoreView(options.store, this.directory.roles, this.directory.users);
    this.agents = new AgentTokens(this.signer, this.secrets);
    this.tokens = new TokenCache(options.tokenCacheSize ?? 10_000);
    this.tokenTtl = options.tokenTtlSeconds ?? 24 * 3600;
    this.inviteTtl = options.inviteTtlSeconds ?? 7 * 24 * 3600;
    const base = { free: 3, baseSeconds: 1, maxSeconds: 300, forgetSeconds: 900, maxEntries: 10_000, ...options.throttle };
    this.userThrottle = new Throttle(base, this.now);
    // One address may host many people (NAT): more free failures before it is slowed.
    this.addressThrottle = new Throttle({ ...base, free: base.free * 5 }, this.now);
  }

  /** From now on the gate reads roles and users through `view`, and the Directory tells it of its writes. */
  attach(view: AccessView): void {
    this.view = view;
    this.directory.tracker = view;
  }

  /** 401 unless `authorization` carries a valid token of a user that still exists. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw new ApiError('Unauthorized', 'authentication required: log in with skyctl login');
    const token = bearerToken(authorization);
    if (!token) throw new ApiError('Unauthorized', 'the Authorization header must be "Bearer <token>"');
    const snapshot = await this.view.settled();
    const nowMs = this.now().getTime();
    const cached = this.tokens.get(token, nowMs);
    // A deleted user's unexpired token dies with the user (and a re-created namesake is someone else); an agent's with its Cluster.
    if (cached && identityOf(snapshot, cached)?.uid === cached.uid) return principalOf(cached);
    let verified: { user: string; expiresAtSeconds: number; recheckAtMs: number; agentCluster?: string; clusterUid?: string } | undefined;
    if (token.startsWith(SERVICE_TOKEN_PREFIX)) {
      const user = await this.secrets.tokenUser(token);
      if (user !== undefined) verified = { user, expiresAtSeconds: Infinity, recheckAtMs: nowMs + SERVICE_RECHECK_MS };
    } else {
      const claims = await this.signer.verifyAccess(token);
      if (claims) verified = { user: claims.user, expiresAtSeconds: claims.expiresAt.getTime() / 1000, recheckAtMs: Infinity };
      // An agent's generation lives in the store: re-read it as often as a service token's digest, so a revoke on another server bites too.
      else verified = await this.agents.verify(token).then((a) => a && { ...a, recheckAtMs: nowMs + SERVICE_RECHECK_MS });
    }
    const record = verified && identityOf(snapshot, verified);
    if (!verified || !record || (verified.clusterUid !== undefined && record.uid !== verified.clusterUid)) {
      this.tokens.delete(token);
      throw new ApiError('Unauthorized', BAD_TOKEN);
    }
    const entry: CachedToken = {
      user: verified.user,
      expiresAtSeconds: verified.expiresAtSeconds,
      recheckAtMs: verified.recheckAtMs,
      uid: record.uid,
      ...(verified.agentCluster !== undefined ? { agentCluster: verified.agentCluster } : {}),
    };
    this.tokens.set(token, entry);
    return principalOf(entry);
  }

  /**
   * The gate's fast path: the principal if the token was verified before, its
   * user still exists, and the caches already reflect this server's writes;
   * otherwise undefined, and the caller takes `authenticate` (which also gives
   * the precise 401). Synchronous, so a cached request costs no promise.
   */
  authenticateNow(authorization: string | undefined): Principal | undefined {
    if (!authorization) return undefined;
    const token = bearerToken(authorization);
    if (!token) return undefined;
    const cached = this.tokens.get(token, this.now().getTime());
    if (!cached) return undefined;
    const snapshot = this.view.current();
    return snapshot && identityOf(snapshot, cached)?.uid === cached.uid ? principalOf(cached) : undefined;
  }

  /** POST /clusters/{name}/agent-tokens: needs `create` on clusters; the Cluster must exist (the token is bound to its uid). */
  async mintAgentToken(principal: Principal, cluster: string, ttl: unknown): Promise<{ cluster: string; token: string; expiresAt: string }> {
    checkClusterName(cluster);
    await this.authorize(principal, { action: 'create', resource: 'clusters', namespace: undefined });
    const ttlSeconds = agentTokenTtl(ttl);
    const found = (await this.view.settled()).cluster(cluster);
    if (!found) throw new ApiError('NotFound', `cluster '${cluster}' not found: create it first (skyctl create cluster ${cluster} --agent)`);
    return this.agents.mint(cluster, found.uid, ttlSeconds);
  }

  /** DELETE /clusters/{name}/agent-tokens: needs `delete` on clusters; every token of the cluster stops working at once. */
  async revokeAgentTokens(principal: Principal, cluster: string): Promise<{ cluster: string; revoked: true }> {
    checkClusterName(cluster);
    await this.authorize(principal, { action: 'delete', resource: 'clusters', namespace: undefined });
    await this.agents.revoke(cluster);
    this.tokens.forgetAgentCluster(cluster);
    return { cluster, revoked: true };
  }

  /** 403 unless one of the principal's roles allows the request. */
  async authorize(principal: Principal, request: Request): Promise<void> {
    if ((await this.view.settled()).rules.allows(principal.user, request)) return;
    throw new ApiError('Forbidden', denial(principal.user, request));
  }

  /** The gate's fast path: true only if allowed by up-to-date roles; false means "ask `authorize`", never a cached denial. */
  allowedNow(principal: Principal, request: Request): boolean {
    return this.view.current()?.rules.allows(principal.user, request) === true;
  }

  /** Straight from the store: used where a grant is decided (invites, registration), not on the hot path. */
  async isAllowed(principal: Principal, request: Request): Promise<boolean> {
    return allows(await this.directory.listRoles(), principal.user, request);
  }

  /** May the principal write a role granting `spec`? Only if it holds all of it already. */
  async mayGrant(principal: Principal, role: RoleView): Promise<boolean> {
    return covers(await this.directory.listRoles(), principal.user, role);
  }

  async login(username: unknown, password: unknown, address: string): Promise<{ user: string; token: string; expiresAt: string }> {
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password.length > MAX_PASSWORD_LENGTH) {
      throw new ApiError('BadRequest', 'username and credentials are required strings');
    }
    const userKey = username.toLowerCase();
    const wait = Math.max(this.userThrottle.retryAfter(userKey), this.addressThrottle.retryAfter(address));
    if (wait > 0) {
      this.metrics.attempt('throttled');
      throw new LoginThrottled(wait);
    }
    // Counted now, before the first await: every concurrent attempt sees this one, so
    // parallel connections get no more password checks than sequential ones.
    this.userThrottle.reserve(userKey);
    this.addressThrottle.reserve(address);
    // Always one full argon2 verification, whether or not the user exists.
    this.metrics.verified();
    const hash = await this.secrets.passwordHash(username);
    const ok = (await verifyPassword(hash, password)) && (await this.directory.userExists(username));
    if (!ok) {
      this.metrics.attempt('failed');
      throw new ApiError('Unauthorized', BAD_LOGIN);
    }
    this.metrics.attempt('ok');
    this.userThrottle.succeed(userKey);
    // The address may be shared (NAT): a success returns its own attempt, not the others'.
    this.addressThrottle.refund(address);
    const { token, expiresAt } = await this.signer.signAccess(username, this.tokenTtl);
    return { user: username, token, expiresAt: expiresAt.toISOString() };
  }

  /** A token for `user` without a password: for `skyshift up`, in-process only. */
  async issueToken(user: string, ttlSeconds: number): Promise<string> {
    return (await this.signer.signAccess(user, ttlSeconds)).token;
  }

  async createInvite(principal: Principal, roleNames: unknown): Promise<{ id: string; token: string; roles: string[]; expiresAt: string }> {
    if (!Array.isArray(roleNames) || roleNames.some((r) => typeof r !== 'string')) {
      throw new ApiError('BadRequest', 'roles must be a list of role names');
    }
    const roles = [...new Set(roleNames as string[])];
    await this.authorize(principal, { action: 'create', resource: 'invites', namespace: undefined });
    const all = await this.directory.listRoles();
    for (const name of roles) {
      const role = all.find((r) => r.name === name);
      if (!role) throw new ApiError('NotFound', `role '${name}' not found`);
      if (!covers(all, principal.user, role)) {
        throw new ApiError('Forbidden', `user '${principal.user}' may not grant role '${name}': it allows more than the user holds`);
      }
    }
    const nonce = randomBytes(24).toString('hex');
    const { token, expiresAt } = await this.signer.signInvite(nonce, principal.user, this.inviteTtl);
    const record: InviteRecord = {
      owner: principal.user,
      roles,
      used: false,
      revoked: false,
      createdAt: this.now().toISOString(),
      expiresAt: expiresAt.toISOString(),
    };
    await this.secrets.createInvite(nonce, record);
    return { id: nonce, token, roles, expiresAt: record.expiresAt };
  }

  /** `idOrToken`: the invite's id or the invite token itself. Owner or an admin only. */
  async revokeInvite(principal: Principal, idOrToken: string): Promise<{ id: string; revoked: true; used: boolean }> {
    await this.authorize(principal, { action: 'delete', resource: 'invites', namespace: undefined });
    const nonce = idOrToken.includes('.') ? unverifiedInviteNonce(idOrToken) : idOrToken;
    const found = nonce && /^[0-9a-f]{16,128}$/.test(nonce) ? await this.secrets.invite(nonce) : undefined;
    if (!nonce || !found) throw new ApiError('NotFound', 'invite not found');
    const admin = await this.isAllowed(principal, { action: '*', resource: '*', namespace: undefined });
    if (found.record.owner !== principal.user && !admin) {
      // Same answer as a missing invite: other users' invites are not even confirmed to exist.
      throw new ApiError('NotFound', 'invite not found');
    }
    if (!found.record.revoked) {
      if ((await this.secrets.updateInvite(nonce, { ...found.record, revoked: true }, found.revision)) === undefined) {
        throw new ApiError('Conflict', 'the invite changed while revoking it; retry');
      }
    }
    return { id: nonce, revoked: true, used: found.record.used };
  }

  async register(input: {
    username: unknown;
    password: unknown;
    invite: unknown;
    email?: unknown;
  }): Promise<{ user: string; roles: string[]; skippedRoles: string[] }> {
    const { username, password, invite, email } = input;
    if (typeof username !== 'string' || typeof password !== 'string' || typeof invite !== 'string') {
      throw new ApiError('BadRequest', 'username, credentials and invite are required strings');
    }
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw invalid(`user '${username}'`, [{ field: 'credentials', message: `must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long` }]);
    }
    if (email !== undefined && typeof email !== 'string') throw new ApiError('BadRequest', 'email must be a string');
    const spec: Partial<UserSpec> = { type: 'user', ...(email !== undefined ? { email } : {}) };
    // Name and e-mail are validated before the invite is looked at or burned.
    this.directory.checkUser(username, spec);
    const claims = await this.signer.verifyInvite(invite);
    const found = claims ? await this.secrets.invite(claims.nonce) : undefined;
    if (!claims || !found || found.record.used || found.record.revoked) throw new ApiError('Forbidden', BAD_INVITE);
    const { record } = found;
    // The inviter must still be allowed to invite; a deleted or demoted inviter's invites die with it.
    const inviter: Principal = { user: record.owner };
    if (!(await this.directory.userExists(record.owner)) || !(await this.isAllowed(inviter, { action: 'create', resource: 'invites', namespace: undefined }))) {
      throw new ApiError('Forbidden', BAD_INVITE);
    }
    // Check the name before burning the invite, so a taken name does not waste it.
    if (await this.directory.userExists(username)) throw new ApiError('AlreadyExists', `user '${username}' already exists`);
    const passwordHash = await hashPassword(password);
    // Claimed first (compare-and-swap: one invite, one user), then given back if
    // the name is lost to a concurrent registration, so the loser keeps its invite.
    const claimed = await this.secrets.updateInvite(claims.nonce, { ...record, used: true, usedBy: username }, found.revision);
    if (claimed === undefined) throw new ApiError('Forbidden', BAD_INVITE);
    let created = false;
    try {
      created = await this.directory.createUser(username, spec);
    } finally {
      // Also on a store error: the invite did not make a user. If it changed meanwhile (revoked), it stays as it is.
      if (!created) await this.secrets.updateInvite(claims.nonce, record, claimed);
    }
    if (!created) throw new ApiError('AlreadyExists', `user '${username}' already exists`);
    await this.secrets.setPasswordHash(username, passwordHash);
    const granted: string[] = [];
    const skipped: string[] = [];
    const all = await this.directory.listRoles();
    for (const name of record.roles) {
      const role = all.find((r) => r.name === name);
      // Re-checked now: the inviter may have lost a role since inviting.
      if (role && covers(all, record.owner, role) && (await this.directory.addUserToRole(name, username))) granted.push(name);
      else skipped.push(name);
    }
    return { user: username, roles: granted, skippedRoles: skipped };
  }

  async deleteUser(principal: Principal, name: string): Promise<Record<string, unknown>> {
    await this.authorize(principal, { action: 'delete', resource: 'users', namespace: undefined });
    const user = await this.directory.user(name);
    if (!user) throw new ApiError('NotFound', `user '${name}' not found`);
    await this.directory.deleteUser(name);
    await this.secrets.forgetUser(name);
    // Otherwise a later user of the same name would inherit the roles.
    await this.directory.removeUserFromRoles(name);
    // Memory hygiene only: the uid binding already stops these tokens (also on other servers).
    this.tokens.forgetUser(name);
    return user;
  }

  async whoami(principal: Principal): Promise<{ kind: 'WhoAmI'; user: string; type: string; roles: string[]; namespaces: string[] }> {
    const user = await this.directory.user(principal.user);
    const roles = rolesOf(await this.directory.listRoles(), principal.user);
    const namespaces = [...new Set(roles.flatMap((r) => r.spec.namespaces))].sort();
    return { kind: 'WhoAmI', user: principal.user, type: user?.spec.type ?? 'user', roles: roles.map((r) => r.name).sort(), namespaces };
  }
}

/** Whom a token's cache entry (or fresh verification) must still match: the User, or for an agent token its Cluster. */
function identityOf(snapshot: AccessSnapshot, token: { user: string; agentCluster?: string }): { uid: string } | undefined {
  return token.agentCluster !== undefined ? snapshot.cluster(token.agentCluster) : snapshot.user(token.user);
}

function principalOf(entry: { user: string; agentCluster?: string }): Principal {
  return entry.agentCluster !== undefined ? { user: entry.user, agentCluster: entry.agentCluster } : { user: entry.user };
}

function bearerToken(authorization: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

function denial(user: string, request: Request): string {
  const where = request.namespace === undefined ? 'cluster-wide (across all namespaces)' : `in namespace '${request.namespace}'`;
  return `user '${user}' may not ${request.action} ${request.resource} ${where}`;
}
