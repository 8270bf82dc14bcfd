/**
 * Poison objects (issue 8, DESIGN 17): jobs stored straight into the store,
 * bypassing the API's validation, must not take the controllers down, block
 * a queue or hold capacity. A real API server on a SQLite file and a real
 * leader term (scheduler + skylets) on a sim cluster; the poison jobs are
 * written with the server's own store object. Then the controllers and the
 * server are restarted on the same file, with one more poison job stored
 * while they were down (the case where every restart used to die again).
 */
import assert from 'node:assert/strict';
import { waitFor as pollFor } from './infra/ports.js';
import { type Cluster, type Job } from '../src/api/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SkyShiftClient, type ApiObject } from '../src/client/index.js';
import { DEFAULT_OPTIONS, runLeaderTerm, type ControllerOptions, type Logger } from '../src/controllers/index.js';
import { systemClock } from '../src/lib/index.js';
import { createManager, type ClusterManager, type JobShare } from '../src/managers/index.js';
import { createApiServer, type ApiServer } from '../src/server/index.js';
import { openStore, type JsonObject, type Store } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyshift-poison-'));
const dbUrl = `sqlite:${join(dir, 'skyshift.db')}`;
const SECRET = 'do-not-log-this-secret-value';

/** Every log line the controllers write, to check that no env value reaches a log. */
const logged: string[] = [];
const record = (level: string) => (obj: object, msg?: string) => logged.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
process.on('unhandledRejection', onUnhandled);

/** A sim cluster whose manager refuses one job on every submit, quoting its env as Node's spawn does. */
const options: ControllerOptions = {
  ...DEFAULT_OPTIONS,
  heartbeatSeconds: 0.1,
  statusKeepaliveSeconds: 1,
  maxSubmitFailures: 3,
  submitRetryBaseMs: 20,
  managerFactory: (c: Cluster) => refusing(createManager(c)),
};

function refusing(inner: ClusterManager): ClusterManager {
  const submit = async (job: Job, share: JobShare) => {
    if (job.metadata.name === 'refused')
      throw new Error(`The property 'options.env['TOKEN']' must be a string without null bytes. Received '${String(job.spec.envs?.['TOKEN'])}'`);
    return inner.submit(job, share);
  };
  // Every other method runs on the manager itself: an Object.create() wrapper made `this` the wrapper, so the sim's
  // bookkeeping written in status() (its next-release time) landed on the wrapper and finished replicas were never released.
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'submit') return submit;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface Running {
  store: Store;
  server: ApiServer;
  client: SkyShiftClient;
  stop: () => Promise<void>;
}

async function start(): Promise<Running> {
  const store = await openStore(dbUrl);
  const server = createApiServer({ store });
  const url = await server.start({ host: '127.0.0.1', port: 0 });
  const client = new SkyShiftClient({ server: url });
  const abort = new AbortController();
  const term = runLeaderTerm(client, systemClock, logger, options, abort.signal);
  return {
    store,
    server,
    client,
    stop: async () => {
      abort.abort();
      await term;
      await server.close();
      await store.close();
    },
  };
}

/** waitFor that shows the controllers' last log lines (POISON_DEBUG=1) when it times out. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  try {
    return await pollFor(what, fn, timeoutMs);
  } catch (err) {
    if (process.env.POISON_DEBUG)
      console.error(
        logged
          .filter((l) => !l.startsWith('debug'))
          .slice(-40)
          .join('\n'),
      );
    throw err;
  }
}

const normalJob = (name: string) => ({
  kind: 'Job',
  metadata: { name, namespace: 'default' },
  spec: { run: 'sleep 0.3', replicas: 2, resources: { cpus: 1, memory: 64 } },
});

/** A stored job with `change` applied, written straight into the store (no validation). */
async function storePoison(store: Store, template: JsonObject, name: string, change: (spec: Record<string, unknown>) => unknown): Promise<void> {
  const copy = structuredClone(template) as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: unknown };
  copy.metadata = { ...copy.metadata, name, uid: `poison-${name}-${Date.now()}` };
  copy.spec = change(copy.spec) as Record<string, unknown>;
  copy.status = { phase: 'INIT' };
  await store.create(`/registry/jobs/default/${name}`, copy as JsonObject);
}

const POISON: Record<string, (spec: Record<string, unknown>) => unknown> = {
  'huge-replicas': (s) => ({ ...s, replicas: 1e308 }),
  'many-replicas': (s) => ({ ...s, replicas: 1e8 }),
  'huge-cpus': (s) => ({ ...s, resources: { cpus: 1e308 } }),
  'big-env': (s) => ({ ...s, envs: { BIG: `${SECRET}${'x'.repeat(2 * 1024 * 1024)}` } }),
  'nul-env': (s) => ({ ...s, envs: { TOKEN: `${SECRET}\u0000tail` } }),
  'string-spec': () => 'not an object',
  'null-spec': () => null,
  'proto-resources': (s) => ({ ...s, resources: JSON.parse('{"__proto__": 1, "cpus": 1}') }),
};

async function phaseOf(client: SkyShiftClient, name: string): Promise<string | undefined> {
  return (await client.get<Job>('jobs', name, { namespace: 'default' })).status?.phase;
}

async function warnings(client: SkyShiftClient, name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = await client.list<ApiObject<{ involvedObject: { name: string }; reason: string; message: string; type: string }>>('events', {
    namespace: 'default',
  });
  return list.items.filter((e) => e.spec.involvedObject.name === name && e.spec.type === 'Warning').map((e) => e.spec);
}

after(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});

test(
  'poison jobs are marked FAILED with a Warning Event and a condition; every normal job still completes, also after a restart',
  { timeout: 120_000 },
  async () => {
    let run = await start();
    try {
      await run.client.create('clusters', {
        kind: 'Cluster',
        metadata: { name: 'sim-a' },
        spec: { manager: 'sim', config: { nodes: 2, nodeResources: { cpus: 4, memory: 8192 } } },
      });
      await waitFor('sim-a READY', async () => (await run.client.get<Cluster>('clusters', 'sim-a')).status?.phase === 'READY');
      await run.client.create('jobs', normalJob('template'));
      const template = (await run.store.get('/registry/jobs/default/template'))?.value;
      assert.ok(template);

      for (const [name, change] of Object.entries(POISON)) await storePoison(run.store, template, name, change);
      await run.client.create('jobs', { ...normalJob('refused'), spec: { ...normalJob('refused').spec, envs: { TOKEN: SECRET } } });
      const normal = ['n-1', 'n-2', 'n-3', 'n-4'];
      for (const n of normal) await run.client.create('jobs', normalJob(n));

      for (const n of ['template', ...normal]) await waitFor(`${n} COMPLETED`, async () => (await phaseOf(run.client, n)) === 'COMPLETED');

      for (const name of Object.keys(POISON)) {
        const job = await waitFor(`${name} FAILED`, async () => {
          const j = await run.client.get<Job>('jobs', name, { namespace: 'default' });
          return j.status?.phase === 'FAILED' && j;
        });
        const cond = job.status.conditions?.find((c) => c.type === 'Failed');
        assert.equal(cond?.reason, 'InvalidObject', `${name}: ${JSON.stringify(job.status)}`);
        assert.match(cond?.message ?? '', /^(spec|metadata)[.:\w]*/, `${name}: the message names the field`);
        const events = await waitFor(`${name} Warning event`, async () => {
          const w = await warnings(run.client, name);
          return w.length > 0 && w;
        });
        assert.equal(events[0]?.reason, 'InvalidObject');
        assert.equal(events[0]?.message, cond?.message);
      }
      const invalidMessages = Object.fromEntries(
        await Promise.all(
          Object.keys(POISON).map(async (n) => [
            n,
            (await run.client.get<Job>('jobs', n, { namespace: 'default' })).status.conditions?.find((c) => c.type === 'Failed')?.message,
          ]),
        ),
      );
      assert.match(invalidMessages['huge-replicas'] ?? '', /^spec\.replicas: /);
      assert.match(invalidMessages['many-replicas'] ?? '', /^spec\.replicas: /);
      assert.match(invalidMessages['huge-cpus'] ?? '', /^spec\.resources\.cpus: /);
      assert.match(invalidMessages['big-env'] ?? '', /^spec\.envs\.BIG: value longer than 128 KiB/);
      assert.match(invalidMessages['nul-env'] ?? '', /^spec\.envs\.TOKEN: value contains a NUL byte/);
      assert.match(invalidMessages['string-spec'] ?? '', /^spec: must be an object/);

      // The refused job: a bounded number of submits, then FAILED (SubmitFailed); its message is scrubbed.
      const refused = await waitFor('refused FAILED', async () => {
        const j = await run.client.get<Job>('jobs', 'refused', { namespace: 'default' });
        return j.status?.phase === 'FAILED' && j;
      });
      const refusedCond = refused.status.conditions?.find((c) => c.type === 'Failed');
      assert.equal(refusedCond?.reason, 'SubmitFailed');
      assert.match(refusedCond?.message ?? '', /submit to cluster 'sim-a' failed 3 times/);
      assert.ok(!(refusedCond?.message ?? '').includes(SECRET), refusedCond?.message);

      // Nothing holds the cluster: a job needing all of it still runs.
      await run.client.create('jobs', { ...normalJob('whole'), spec: { ...normalJob('whole').spec, replicas: 8 } });
      // Says, on failure, what the scheduler saw: under heavy load this wait has timed out with sim-a's status showing the
      // earlier jobs' cpus still held (under investigation; the status is printed to find which side is stale).
      await waitFor('whole COMPLETED', async () => (await phaseOf(run.client, 'whole')) === 'COMPLETED', 60_000).catch(async (err: unknown) => {
        const whole = await run.client.get<Job>('jobs', 'whole', { namespace: 'default' });
        const cluster = await run.client.get<Cluster>('clusters', 'sim-a');
        throw new Error(
          `${String(err)}; whole: ${JSON.stringify(whole.status)}; sim-a: ${JSON.stringify({ ...cluster.status, capacity: undefined })} at ${new Date().toISOString()}`,
        );
      });

      // Restart on the same store, with a fresh poison job stored while everything was down.
      await run.stop();
      const down = await openStore(dbUrl);
      await storePoison(down, template, 'while-down', (s) => ({ ...s, replicas: 1e308 }));
      await down.close();
      run = await start();
      await run.client.create('jobs', normalJob('after-restart'));
      await waitFor('after-restart COMPLETED', async () => (await phaseOf(run.client, 'after-restart')) === 'COMPLETED');
      await waitFor('while-down FAILED', async () => (await phaseOf(run.client, 'while-down')) === 'FAILED');
      // The jobs marked in the first run are not marked (or announced) again.
      assert.equal((await warnings(run.client, 'huge-replicas')).length, 1);
    } finally {
      await run.stop();
    }
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    const leaks = logged.filter((l) => l.includes(SECRET));
    assert.deepEqual(leaks, [], 'no env value in any log line');
  },
);
