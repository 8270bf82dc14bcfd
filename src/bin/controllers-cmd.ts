/** `skyshift controllers`: the controller manager alone, against an API server. */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { SkyShiftClient } from '../client/index.js';
import { controllerRegistry, runControllers, type ControllerOptions } from '../controllers/index.js';
import { controllerToken } from './auth-setup.js';
import { createLogger } from './logger.js';
import { onShutdown } from './shutdown.js';

export interface ControllerFlags {
  heartbeatSeconds: number;
  evictionGraceSeconds: number;
  leaseDurationSeconds: number;
  maxReplicas: number;
  eventTtlSeconds: number;
  logLevel: string;
}

export interface ControllersCommandOptions extends ControllerFlags {
  server: string;
  identity?: string;
  token?: string;
  tokenFile?: string;
  metricsPort?: number;
  /** Controller groups to run (default all): the scheduler and the skylets may run in separate processes. */
  only?: string[];
}

export function controllerOptions(flags: ControllerFlags): Partial<ControllerOptions> {
  return {
    heartbeatSeconds: flags.heartbeatSeconds,
    evictionGraceSeconds: flags.evictionGraceSeconds,
    leaseDurationSeconds: flags.leaseDurationSeconds,
    maxReplicas: flags.maxReplicas,
    eventTtlSeconds: flags.eventTtlSeconds,
  };
}

export async function runControllersCommand(options: ControllersCommandOptions): Promise<void> {
  const logger = createLogger(options.logLevel, 'skyshift-controllers');
  const identity = options.identity ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const token = controllerToken(options);
  const client = new SkyShiftClient({ server: options.server, ...(token ? { token } : {}) });
  const abort = new AbortController();
  let controllersDone: Promise<void> = Promise.resolve();
  onShutdown(logger, async () => {
    abort.abort();
    await controllersDone;
  });
  logger.info({ server: client.server, identity }, 'controller manager starting');
  // Runtime timers are unref'd; a standby that only waits for the lease must still not exit.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const metrics = options.metricsPort !== undefined ? await serveMetrics(options.metricsPort) : undefined;
  if (metrics) logger.info({ url: `http://127.0.0.1:${options.metricsPort}/metrics` }, 'controller metrics');
  try {
    controllersDone = runControllers({
      client,
      identity,
      logger,
      options: controllerOptions(options),
      signal: abort.signal,
      ...(options.only ? { only: options.only } : {}),
    });
    await controllersDone;
  } finally {
    clearInterval(keepAlive);
    await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()));
  }
}

/** A separate controllers process has no API server to carry its metrics: prom-client's registry on a port of its own. */
async function serveMetrics(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
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
