/**
 * Users, roles and secure access (DESIGN section 9). The only place that
 * knows jose and argon2. `createAuth` reads (or makes) the signing key, creates
 * the default roles, the admin and the controllers' service account; the API
 * server calls `install` to put the gate and the account routes in front of
 * every route.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ServerContext } from '../context.js';
import type { Store } from '../store.js';
import { ADMIN_USER, ensureAdmin, ensureControllerToken, ensureDefaultRoles } from './bootstrap.js';
import { installGate } from './hook.js';
import { loadOrCreateSigningKey } from './keys.js';
import { warmUpPasswords } from './passwords.js';
import { accountRoutes, type AccountRoutes } from './routes.js';
import { AuthService } from './service.js';
import { CacheView } from './view.js';

export { CONTROLLER_USER } from './bootstrap.js';
export type { Principal } from './service.js';
export type { AccountRoutes } from './routes.js';
export { agentVisibility } from './agent-scope.js';

export interface AuthOptions {
  store: Store;
  /** Holds auth/signing.key, admin-password and controllers.token, all 0600. */
  dataDir: string;
  tokenTtlSeconds?: number;
  inviteTtlSeconds?: number;
  now?: () => Date;
}

export interface Auth {
  /** Where the generated admin password is (written on first start only). */
  readonly adminPasswordFile: string;
  /** The controllers' service-account token file. */
  readonly controllerTokenFile: string;
  /** True if this start created the admin (so the password file is new). */
  readonly adminCreated: boolean;
  /** The controllers' service-account token. */
  readonly controllerToken: string;
  /** A token for the admin without its password: `skyshift up` writes it into the skyctl config. */
  adminToken(ttlSeconds: number): Promise<string>;
  /** Login metrics (attempts, password verifications); /metrics shows them. */
  readonly registry: Registry;
  /**
   * Called by createApiServer after the hook that resolves each request's
   * path (request.skyTarget) and before its other hooks: installs the gate
   * and the role guard, which decide on that target, and returns the account
   * routes for the server to dispatch. From then on the gate reads roles and
   * users from the server's watch caches (`ctx.caches`).
   */
  install(app: FastifyInstance, ctx: ServerContext): AccountRoutes;
}

export async function createAuth(options: AuthOptions): Promise<Auth> {
  const signingKey = loadOrCreateSigningKey(join(options.dataDir, 'auth', 'signing.key'));
  const service = new AuthService({
    store: options.store,
    signingKey,
    ...(options.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: options.tokenTtlSeconds } : {}),
    ...(options.inviteTtlSeconds !== undefined ? { inviteTtlSeconds: options.inviteTtlSeconds } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const adminPasswordFile = join(options.dataDir, 'admin-password');
  const controllerTokenFile = join(options.dataDir, 'controllers.token');
  await ensureDefaultRoles(service);
  const adminCreated = await ensureAdmin(service, adminPasswordFile);
  const controllerToken = await ensureControllerToken(service, controllerTokenFile);
  await warmUpPasswords();
  return {
    adminPasswordFile,
    controllerTokenFile,
    adminCreated,
    controllerToken,
    adminToken: (ttl) => service.issueToken(ADMIN_USER, ttl),
    registry: service.metrics.registry,
    install(app, ctx) {
      const view = CacheView.of(ctx, service.directory.roles, service.directory.users);
      if (view) service.attach(view);
      installGate(app, service, ctx);
      return accountRoutes(service);
    },
  };
}
