/**
 * The API server as `skyshift server` and `skyshift up` start it: the data dir
 * taken first, the store, auth and TLS, the managers wired in, listening.
 * Whatever started is closed again when a later step fails.
 */
import type { Logger } from 'pino';
import { VERSION } from '../lib/version.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../server/index.js';
import { openStore, type Store } from '../store/index.js';
import { setupSecurity, type AuthFlags, type Security } from './auth-setup.js';
import { claimDataDir, dataDirOf } from './data-dir.js';
import { wireManagers } from './wire-managers.js';

export interface ApiServerFlags extends AuthFlags {
  host: string;
  port: number;
  store: string;
  maxReplicas: number;
  /** `--access-log`: one info line per request. */
  accessLog?: boolean;
}

export interface RunningApiServer {
  server: ApiServer;
  store: Store;
  security: Security;
  url: string;
  releaseDataDir: () => void;
}

/** `extra`: options only one of the commands sets (watch tuning, extra metrics registries). */
export async function startApiServer(flags: ApiServerFlags, purpose: string, logger: Logger, extra: Partial<ApiServerOptions> = {}): Promise<RunningApiServer> {
  // Before anything is opened or written: a second process on this data dir stops here, touching nothing.
  const releaseDataDir = claimDataDir(dataDirOf(flags), `${purpose} on port ${flags.port}`);
  const store = await openStore(flags.store);
  const security = await setupSecurity(store, flags, logger).catch(async (err: unknown) => {
    await store.close().catch(() => {});
    throw err;
  });
  const server = createApiServer({
    ...extra,
    ...security.options,
    // Config validation per manager, and logs read through the managers of the host the server runs on.
    ...wireManagers(store),
    store,
    logger,
    version: VERSION,
    limits: { maxReplicas: flags.maxReplicas },
    accessLog: flags.accessLog === true,
  });
  try {
    const url = await server.start({ host: flags.host, port: flags.port });
    logger.info({ url, store: store.backend }, 'skyshift API server listening');
    return { server, store, security, url, releaseDataDir };
  } catch (err) {
    await server.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}
