/** `skyshift up`: API server, store, controllers and a local cluster in one process, plus a skyctl context. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ApiError, normalizeClusterName, parseCpus, parseMemory } from '../api/index.js';
import { saveCurrentContext } from '../cli/index.js';
import { SkyShiftClient } from '../client/index.js';
import { controllerRegistry, runControllers } from '../controllers/index.js';
import { startApiServer, type ApiServerFlags } from './api-server.js';
import type { Security } from './auth-setup.js';
import { controllerOptions, type ControllerFlags } from './controllers-cmd.js';
import { registerKubeContexts } from './kube-discovery.js';
import { createLogger } from './logger.js';
import { onShutdown } from './shutdown.js';

export interface UpCommandOptions extends ControllerFlags, ApiServerFlags {
  localCluster: boolean;
  /** false with --no-kubeconfig; a path with --kubeconfig PATH. */
  kubeconfig?: boolean | string;
  localCpus?: string;
  localMemory?: string;
}

/** Lifetime of the admin token `up` writes for skyctl (every `up` writes a fresh one). */
const ADMIN_TOKEN_SECONDS = 30 * 24 * 3600;

export async function runUp(options: UpCommandOptions): Promise<void> {
  const logger = createLogger(options.logLevel, 'skyshift');
  // The API server's /metrics also shows the in-process controllers' registry (merged
  // per scrape, so only an authorised 200 ever carries it).
  const { server, store, security, url, releaseDataDir } = await startApiServer(options, 'skyshift up', logger, { metricsRegistries: [controllerRegistry] });
  // The controllers run as their own service account, even in-process.
  const client = new SkyShiftClient({
    server: url,
    ...(security.auth ? { token: security.auth.controllerToken } : {}),
    // --tls: the in-process controllers verify the server like any client, by the CA made for it.
    ...(security.selfSigned ? { tls: { ca: readFileSync(security.selfSigned.caFile) } } : {}),
  });
  const abort = new AbortController();
  let controllersDone: Promise<void> = Promise.resolve();
  const shutdown = onShutdown(logger, async () => {
    abort.abort();
    // Controllers first: they release the lease through the still-running server.
    await controllersDone.catch(() => {});
    await server.close().catch(() => {});
    await store.close().catch(() => {});
    releaseDataDir();
  });

  const localName = options.localCluster ? await registerLocalCluster(client, options, logger) : undefined;
  const kubeNames =
    options.kubeconfig === false ? [] : await registerKubeContexts(client, logger, typeof options.kubeconfig === 'string' ? options.kubeconfig : undefined);
  const context = await writeContext(security, url);

  // A stable identity for the all-in-one process: after a kill -9 the restarted `up` renews its own lease at once instead of waiting for it to expire.
  const identity = `skyshift-up_${hostname()}_${options.port}`;
  controllersDone = runControllers({ client, identity, logger, options: controllerOptions(options), signal: abort.signal });
  process.stderr.write(
    [
      `SkyShift is up at ${url}${localName ? ` with local cluster '${localName}'` : ''}.`,
      ...(kubeNames.length > 0 ? [`Kubernetes clusters from your kubeconfig: ${kubeNames.join(', ')} (skip with --no-kubeconfig).`] : []),
      `skyctl context '${context.name}' written to ${context.path} (current).`,
      ...(security.selfSigned
        ? [
            `HTTPS with a self-signed CA: ${security.selfSigned.caFile}`,
            `  CA fingerprint (SHA-256): ${security.selfSigned.fingerprint}`,
            `  certificate covers: ${security.selfSigned.sans.join(', ')} (add more with --tls-san)`,
            `  agents verify it with --fingerprint ${security.selfSigned.fingerprint} or --ca-file ca.crt`,
          ]
        : []),
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
  await shutdown.stopping;
}

/** A local cluster named after this host; an existing one is left as it is (the user may have changed it). */
async function registerLocalCluster(client: SkyShiftClient, options: UpCommandOptions, logger: Logger): Promise<string> {
  const name = normalizeClusterName(hostname());
  const config: Record<string, unknown> = {};
  if (options.localCpus !== undefined) config.cpus = parseCpus(options.localCpus, '--local-cpus');
  if (options.localMemory !== undefined) config.memory = parseMemory(options.localMemory, '--local-memory');
  try {
    await client.create('clusters', { kind: 'Cluster', metadata: { name, labels: { 'skyshift.io/local': 'true' } }, spec: { manager: 'local', config } });
    logger.info({ cluster: name }, 'local cluster registered');
    return name;
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'AlreadyExists') return name;
    throw err;
  }
}

/** The skyctl context that reaches this server: the admin's (with a fresh token) when auth is on, else `local`. */
async function writeContext(security: Security, server: string): Promise<{ name: string; path: string }> {
  // --tls: skyctl trusts the self-signed CA through its context (and nothing is ever skipped).
  const ca = security.selfSigned ? { 'certificate-authority': security.selfSigned.caFile } : {};
  if (!security.auth) return { name: 'local', path: saveCurrentContext({ name: 'local', server, ...ca }) };
  const token = await security.auth.adminToken(ADMIN_TOKEN_SECONDS);
  return { name: 'admin-default', path: saveCurrentContext({ name: 'admin-default', server, user: 'admin', token, ...ca }) };
}
