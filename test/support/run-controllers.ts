/**
 * Test harness: one controller-manager process running only some controllers
 * (`runControllers({ only })`), so tests can run the scheduler and the skylets
 * in separate processes against one API server.
 *
 * Usage: node --import tsx test/support/run-controllers.ts --server URL --only scheduler[,skylets] [--identity ID] [--heartbeat-seconds N]
 */
import { parseArgs } from 'node:util';
import { SkyShiftClient } from '../../src/client/index.js';
import { runControllers, type Logger } from '../../src/controllers/index.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    only: { type: 'string' },
    identity: { type: 'string' },
    'heartbeat-seconds': { type: 'string', default: '1' },
  },
});
if (!values.server || !values.only) throw new Error('--server and --only are required');
const only = values.only.split(',');
const identity = values.identity ?? `${only.join('+')}_${process.pid}`;

const line = (level: string) => (obj: object, msg?: string) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level, msg, ...obj })}\n`);
const logger: Logger = { debug() {}, info: line('info'), warn: line('warn'), error: line('error') };

const abort = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => abort.abort());
// Runtime timers are unref'd; a standby waiting for its lease must still not exit.
const keepAlive = setInterval(() => {}, 1 << 30);
try {
  await runControllers({
    client: new SkyShiftClient({ server: values.server }),
    identity,
    logger,
    only,
    options: { heartbeatSeconds: Number(values['heartbeat-seconds']) },
    signal: abort.signal,
  });
} finally {
  clearInterval(keepAlive);
}
