/** `skyshift controllers` and `skyshift up`: the composition root of controllers, server, store and the local cluster. */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { createLogger } from './logger.js';
import { ApiError, kindForPlural, normalizeClusterName, parseCpus, parseMemory, storageKey } from '../api/index.js';
import { configPath, loadConfig, saveConfig } from '../cli/index.js';
import { SkyShiftClient } from '../client/index.js';
import { controllerRegistry, runControllers, type ControllerOptions } from '../controllers/index.js';
import type { ClusterRef } from '../managers/index.js';
import { createApiServer } from '../server/index.js';
import { openStore } from '../store/index.js';
import { controllerToken, setupSecurity, writeAdminContext, type AuthFlags } from './auth-setup.js';
import { claimDataDir, dataDirOf } from './data-dir.js';
import { createLogsProvider } from './logs-provider.js';

export interface ControllerFlags {
  heartbeatSeconds: number;
  evictionGraceSeconds: number;
  leaseDurationSeconds: number;
  maxReplicas: number;
  logLevel: string;
}

export interface ControllersCommandOptions extends ControllerFlags {
  server: string;
  identity?: string;
  token?: string;
  tokenFile?: string;
  metricsPort?: number;
}

export interface UpCommandOptions extends ControllerFlags, AuthFlags {
  host: string;
  port: number;
  store: string;
  localCluster: boolean;
  localCpus?: string;
  localMemory?: string;
}

function controllerOptions(flags: ControllerFlags): Partial<ControllerOptions> {
  return {
    heartbeatSeconds: flags.heartbeatSeconds,
    evictionGraceSeconds: flags.evictionGraceSeconds,
    leaseDurationSeconds: flags.leaseDurationSeconds,
    maxReplicas: flags.maxReplicas,
  };
}

/** Resolves on the first SIGTERM/SIGINT; a second one exits at once. */
function onShutdown(stop: (signal: string) => void): void {
  let seen = false;
  const handler = (signal: string) => {
    if (seen) process.exit(130);
    seen = true;
    stop(signal);
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

export async function runControllersCommand(options: ControllersCommandOptions): Promise<void> {
  const logger = createLogger(options.logLevel, 'skyshift-controllers');
  const identity = options.identity ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const token = controllerToken(options);
  const client = new SkyShiftClient({ server: options.server, ...(token ? { token } : {}) });
  const abort = new AbortController();
  onShutdown((signal) => {
    logger.info({ signal }, 'shutting down');
    abort.abort();
  });
  logger.info({ server: client.server, identity }, 'controller manager starting');
  // Runtime timers are unref'd; a standby that only waits for the lease must still not exit.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const metrics = options.metricsPort !== undefined ? await serveMetrics(options.metricsPort) : undefined;
  if (metrics) logger.info({ url: `http://127.0.0.1:${options.metricsPort}/metrics` }, 'controller metrics');
  try {
    await runControllers({ client, identity, logger, options: controllerOptions(options), signal: abort.signal });
  } finally {
    clearInterval(keepAlive);
    await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
  }
}

/** A separate controllers process has no API server to carry its metrics: a minimal /metrics of its own. */
async function serveMetrics(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    controllerRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': controllerRegistry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

export async function runUp(options: UpCommandOptions, version: string): Promise<void> {
  const logger = createLogger(options.logLevel, 'skyshift');
  // Before anything is opened or written: a second `up` on this data dir stops here, touching nothing.
  const releaseDataDir = claimDataDir(dataDirOf(options), `skyshift up on port ${options.port}`);
  const store = await openStore(options.store);
  const clusters = kindForPlural('clusters');
  if (!clusters) throw new Error('cluster kind missing');
  const logs = createLogsProvider({
    getCluster: async (name) => (await store.get(storageKey(clusters, undefined, name)))?.value as unknown as ClusterRef | undefined,
  });
  const security = await setupSecurity(store, options, logger).catch(async (err: unknown) => {
    await store.close().catch(() => {});
    throw err;
  });
  // The API server's /metrics also shows the in-process controllers' registry (merged
  // per scrape, so only an authorised 200 ever carries it).
  const server = createApiServer({ ...security.options, store, logger, version, logs, metricsRegistries: [controllerRegistry], limits: { maxReplicas: options.maxReplicas } });
  let url: string;
  try {
    url = await server.start({ host: options.host, port: options.port });
  } catch (err) {
    await server.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  logger.info({ url, store: store.backend }, 'skyshift API server listening');
  // The controllers run as their own service account, even in-process.
  const client = new SkyShiftClient({ server: url, ...(security.auth ? { token: security.auth.controllerToken } : {}) });
  const abort = new AbortController();
  let stopping: Promise<void> | undefined;
  let controllersDone: Promise<void> = Promise.resolve();
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error('shutdown took longer than 15 s; exiting');
        process.exit(1);
      }, 15_000);
      force.unref();
      abort.abort();
      // Controllers first: they release the lease through the still-running server.
      await controllersDone.catch(() => {});
      await server.close().catch(() => {});
      await store.close().catch(() => {});
      releaseDataDir();
      clearTimeout(force);
    })();
  };
  onShutdown(shutdown);

  let localName: string | undefined;
  if (options.localCluster) {
    localName = normalizeClusterName(hostname());
    const config: Record<string, unknown> = {};
    if (options.localCpus !== undefined) config.cpus = parseCpus(options.localCpus, '--local-cpus');
    if (options.localMemory !== undefined) config.memory = parseMemory(options.localMemory, '--local-memory');
    try {
      await client.create('clusters', { kind: 'Cluster', metadata: { name: localName, labels: { 'skyshift.io/local': 'true' } }, spec: { manager: 'local', config } });
      logger.info({ cluster: localName }, 'local cluster registered');
    } catch (err) {
      // Never overwrite: the user may have changed it.
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }

  let path = configPath();
  let contextName = 'local';
  if (security.auth) {
    path = await writeAdminContext(security.auth, url);
    contextName = 'admin-default';
  } else {
    const cfg = loadConfig(path);
    const previous = cfg.contexts.find((c) => c.name === 'local');
    const contexts = [...cfg.contexts.filter((c) => c.name !== 'local'), { ...previous, name: 'local', server: url, namespace: previous?.namespace ?? 'default' }];
    saveConfig({ ...cfg, contexts, 'current-context': 'local' }, path);
  }

  // A stable identity for the all-in-one process: after a kill -9 the restarted `up` renews its own lease at once instead of waiting for it to expire.
  const identity = `skyshift-up_${hostname()}_${options.port}`;
  controllersDone = runControllers({ client, identity, logger, options: controllerOptions(options), signal: abort.signal });
  process.stdout.write(
    [
      `SkyShift is up at ${url}${localName ? ` with local cluster '${localName}'` : ''}.`,
      `skyctl context '${contextName}' written to ${path} (current).`,
      ...(security.auth?.adminCreated ? [`Admin password (generated): ${security.auth.adminPasswordFile} (mode 0600).`] : []),
      'Try:',
      '  skyctl get clusters',
      "  skyctl create job hello --run 'echo Sky!; sleep 2' --replicas 2 --cpus 1",
      '  skyctl get jobs',
      '  skyctl logs hello',
      'Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
  await controllersDone;
  await stopping;
}
