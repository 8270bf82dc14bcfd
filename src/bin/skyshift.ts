#!/usr/bin/env node
/**
 * The `skyshift` binary: the composition root. Subcommands are separate
 * commander commands so `up` and `controllers` can be added beside `server`.
 */
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { createApiServer } from '../server/index.js';
import { openStore } from '../store/index.js';

const VERSION = '0.1.0';
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseLevel(value: string): string {
  if (!LEVELS.includes(value)) throw new InvalidArgumentError(`must be one of ${LEVELS.join(', ')}`);
  return value;
}

export interface ServerCommandOptions {
  host: string;
  port: number;
  store: string;
  logLevel: string;
  watchBookmarkSeconds: number;
  watchHistory: number;
}

/** Runs the API server until SIGTERM/SIGINT, then stops accepting, ends watches, closes the store. */
async function runServer(options: ServerCommandOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { component: 'skyshift-server' } });
  const store = await openStore(options.store);
  const server = createApiServer({
    store,
    logger,
    version: VERSION,
    bookmarkIntervalMs: options.watchBookmarkSeconds * 1000,
    watchHistory: options.watchHistory,
  });
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      try {
        await server.close();
        await store.close();
      } catch (err) {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'error during shutdown');
        process.exitCode = 1;
      }
      clearTimeout(force);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    const url = await server.start({ host: options.host, port: options.port });
    logger.info({ url, store: store.backend }, 'skyshift API server listening');
  } catch (err) {
    await server.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}

export function buildProgram(): Command {
  const program = new Command('skyshift')
    .description('SkyShift control plane: many clusters that look like one')
    .version(VERSION);

  program
    .command('server')
    .description('run the API server only (state in SQLite or etcd)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', parsePort, 50051)
    .option('--store <url>', 'sqlite:PATH | etcd://HOST:PORT[,HOST:PORT] | memory:', 'sqlite:~/.skyshift/skyshift.db')
    .option('--log-level <level>', `log level (${LEVELS.join(', ')})`, parseLevel, 'info')
    .option('--watch-bookmark-seconds <n>', 'interval of BOOKMARK events on idle watches', parseCount, 30)
    .option('--watch-history <n>', 'watch events kept per kind so clients can resume', parseCount, 20_000)
    .addHelpText(
      'after',
      `
Examples:
  $ skyshift server
  $ skyshift server --port 8080 --store sqlite:/var/lib/skyshift/skyshift.db
  $ skyshift server --host 0.0.0.0 --store etcd://10.0.0.1:2379,10.0.0.2:2379 --log-level warn`,
    )
    .action(async (options: ServerCommandOptions) => runServer(options));

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`skyshift: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
