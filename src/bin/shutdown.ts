/**
 * The one graceful shutdown of `skyshift server`, `up` and `controllers`: the
 * first SIGTERM/SIGINT runs the process's stop steps, a second one exits at
 * once (130), and steps that hang past SHUTDOWN_TIMEOUT_MS end the process
 * with exit code 1 rather than leave it half-stopped.
 */
import type { Logger } from 'pino';

/** Long enough for controllers to release their lease and for the store to flush; short enough for a supervisor's patience. */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

export interface Shutdown {
  /** Set once a signal arrived; settles when the stop steps are done. */
  readonly stopping: Promise<void> | undefined;
}

export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = SHUTDOWN_TIMEOUT_MS): Shutdown {
  let stopping: Promise<void> | undefined;
  const handler = (signal: string) => {
    if (stopping) process.exit(130);
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${timeoutMs / 1000} s; exiting`);
      process.exit(1);
    }, timeoutMs);
    force.unref();
    stopping = stop()
      .catch((err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'error during shutdown');
        process.exitCode = 1;
      })
      .finally(() => clearTimeout(force));
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
  return {
    get stopping() {
      return stopping;
    },
  };
}
