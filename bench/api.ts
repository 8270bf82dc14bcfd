/**
 * npm run bench:api — throughput and latency of the HTTP API on SQLite and on etcd,
 * against a raw etcd baseline measured in the same run, plus watch fan-out and
 * large-list latency. Prints a Markdown report (paste into docs/benchmarks.md).
 *
 * Everything runs on this machine: etcd and `skyshift server` are started on free
 * loopback ports and stopped by PID at the end. Figures are medians of repeated
 * rounds where cheap; the machine is shared and noisy, so compare ratios and
 * the API server's CPU time per operation (from /proc), which load on other
 * cores barely moves.
 *
 * For bench/compare.ts: --sqlite-create-only measures just the SQLite create
 * row at concurrency 50 (after the same warm-up); --root DIR runs
 * DIR/src/bin/skyshift.ts (another commit's tree) under this harness; --json
 * prints that row as one line.
 */
import http from 'node:http';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../test/infra/etcd.js';
import { startServer, type TestServer } from '../test/infra/server.js';
import { adminToken } from './lib/auth.js';
import { describeMachine } from './lib/machine.js';
import { makeAgent, percentile, request, runLoad } from './lib/http.js';
import { flag, printJson, stringOption } from './lib/args.js';
import { cpuTicks } from './lib/proc.js';

const QUICK = flag('quick');
const SQLITE_CREATE_ONLY = flag('sqlite-create-only');
const JSON_OUT = flag('json');
/** The source tree whose `skyshift server` is measured; default this repo. */
const ROOT = stringOption('root');
const N_C1 = QUICK ? 300 : 1000;
const N_C50 = QUICK ? 2000 : 10000;
const LIST_JOBS = QUICK ? 2000 : 10000;
const WATCHERS = QUICK ? 200 : 1000;
const FANOUT_WRITES = QUICK ? 20 : 50;
/**
 * Unrecorded operations at concurrency 50 before any recorded round, for each API
 * server and for the raw etcd client alike: the first thousands of requests in a
 * fresh process measure V8 compiling the code (3-4x the steady CPU per create),
 * not the server a user runs for days.
 */
const WARMUP = QUICK ? 1000 : 3000;

interface Row {
  backend: string;
  op: string;
  concurrency: number;
  n: number;
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** utime+stime of the API server process per operation (steadier than rates on shared cores); raw etcd rows have none. */
  cpuUs?: number;
}
const rows: Row[] = [];
/** Bearer token of the server under test (auth is on, as users run it). */
let auth: Record<string, string> = {};
const call = (agent: http.Agent, url: URL, method: string, body?: string) => request(agent, url, method, body, auth);

function jobBody(name: string, namespace = 'default'): string {
  return JSON.stringify({
    kind: 'Job',
    metadata: { name, namespace, labels: { app: 'bench', tier: name.length % 2 ? 'a' : 'b' } },
    spec: { run: 'echo hello; sleep 1', replicas: 2, resources: { cpus: 1, memory: '512Mi' } },
  });
}

/** Runs `load` and records it; with `pid`, also that process's CPU time per operation. */
async function measured(pid: number | undefined, backend: string, op: string, concurrency: number, load: () => ReturnType<typeof runLoad>): Promise<Row> {
  const before = pid === undefined ? 0 : cpuTicks(pid);
  const r = await load();
  const cpuUs = pid === undefined || r.latencies.length === 0 ? undefined : ((cpuTicks(pid) - before) * 10_000) / r.latencies.length;
  return record(backend, op, concurrency, r, cpuUs);
}

function record(backend: string, op: string, concurrency: number, r: Awaited<ReturnType<typeof runLoad>>, cpuUs?: number): Row {
  const row: Row = {
    backend,
    op,
    concurrency,
    n: r.latencies.length,
    perSec: (r.latencies.length / r.wallMs) * 1000,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    errors: r.errors,
    ...(cpuUs === undefined ? {} : { cpuUs }),
  };
  rows.push(row);
  const err = r.errors ? ` errors=${r.errors} (${r.firstError})` : '';
  console.error(
    `  ${backend} ${op} c=${concurrency}: ${row.perSec.toFixed(0)}/s p50 ${row.p50.toFixed(2)} ms p99 ${row.p99.toFixed(2)} ms${cpuUs === undefined ? '' : ` server CPU ${cpuUs.toFixed(0)} µs/op`}${err}`,
  );
  return row;
}

async function warmUp(server: TestServer): Promise<void> {
  const base = new URL(server.url);
  const agent = makeAgent(50);
  await call(agent, new URL('/namespaces', base), 'POST', JSON.stringify({ kind: 'Namespace', metadata: { name: 'bench-warm' } }));
  const url = new URL('/bench-warm/jobs', base);
  await runLoad(WARMUP, 50, async (i) => (await call(agent, url, 'POST', jobBody(`w${i}`, 'bench-warm'))).status);
  await runLoad(WARMUP, 50, async (i) => (await call(agent, new URL(`/bench-warm/jobs/w${i}`, base), 'GET')).status);
  await runLoad(WARMUP / 10, 50, async () => (await call(agent, new URL('/bench-warm/jobs?limit=100', base), 'GET')).status);
  agent.destroy();
}

async function crudRounds(server: TestServer, backend: string): Promise<void> {
  await warmUp(server);
  const base = new URL(server.url);
  for (const concurrency of [1, 50]) {
    const n = concurrency === 1 ? N_C1 : N_C50;
    const agent = makeAgent(concurrency);
    const prefix = `c${concurrency}-`;
    const url = new URL('/default/jobs', base);
    const pid = server.daemon.pid;
    await measured(pid, backend, 'create', concurrency, () =>
      runLoad(n, concurrency, async (i) => (await call(agent, url, 'POST', jobBody(`${prefix}${i}`))).status),
    );
    await measured(pid, backend, 'get', concurrency, () =>
      runLoad(n, concurrency, async (i) => (await call(agent, new URL(`/default/jobs/${prefix}${i}`, base), 'GET')).status),
    );
    // A list of a small namespace (100 jobs): the common `skyctl get jobs` case.
    if (concurrency === 1) {
      await call(agent, new URL('/namespaces', base), 'POST', JSON.stringify({ kind: 'Namespace', metadata: { name: 'bench-small' } }));
      await runLoad(100, 10, async (i) => (await call(agent, new URL('/bench-small/jobs', base), 'POST', jobBody(`s${i}`, 'bench-small'))).status);
    }
    const listN = concurrency === 1 ? 200 : 2000;
    await measured(pid, backend, 'list (100 jobs)', concurrency, () =>
      runLoad(listN, concurrency, async () => (await call(agent, new URL('/bench-small/jobs', base), 'GET')).status),
    );
    agent.destroy();
  }
}

/** The raw baselines with the same client: plain puts (the issue's baseline) and create-if-absent txns (what a create is). */
const RAW_PUT = 'raw etcd (etcd3 put)';
const RAW_TXN = 'raw etcd (etcd3 txn create)';

async function rawEtcd(endpoint: string): Promise<void> {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  const txnCreate = async (key: Buffer, value: string) =>
    (
      await client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value: Buffer.from(value) } }],
      })
    ).succeeded;
  try {
    await runLoad(WARMUP, 50, async (i) => (await client.put(`/raw/warm/put-${i}`).value(jobBody(`w${i}`)), 200));
    await runLoad(WARMUP, 50, async (i) => ((await txnCreate(Buffer.from(`/raw/warm/txn-${i}`), jobBody(`w${i}`))) ? 200 : 409));
    for (const concurrency of [1, 50]) {
      const n = concurrency === 1 ? N_C1 : N_C50;
      const put = await runLoad(n, concurrency, async (i) => {
        await client.put(`/raw/jobs/default/c${concurrency}-${i}`).value(jobBody(`c${concurrency}-${i}`));
        return 200;
      });
      record(RAW_PUT, 'put', concurrency, put);
      // The same txn our etcd store sends for a create: compare create_revision == 0, then put.
      const txn = await runLoad(n, concurrency, async (i) =>
        (await txnCreate(Buffer.from(`/raw/txn/default/c${concurrency}-${i}`), jobBody(`c${concurrency}-${i}`))) ? 200 : 409,
      );
      record(RAW_TXN, 'txn create', concurrency, txn);
    }
  } finally {
    client.close();
  }
}

async function largeList(server: TestServer): Promise<{ p50: number; p99: number; bytes: number }> {
  const base = new URL(server.url);
  const agent = makeAgent(50);
  await call(agent, new URL('/namespaces', base), 'POST', JSON.stringify({ kind: 'Namespace', metadata: { name: 'bench-large' } }));
  await runLoad(LIST_JOBS, 50, async (i) => (await call(agent, new URL('/bench-large/jobs', base), 'POST', jobBody(`l${i}`, 'bench-large'))).status);
  const latencies: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const res = await call(agent, new URL('/bench-large/jobs', base), 'GET');
    latencies.push(performance.now() - t0);
    bytes = res.body.length;
    const items = (JSON.parse(res.body) as { items: unknown[] }).items.length;
    if (items !== LIST_JOBS) throw new Error(`list returned ${items} jobs, expected ${LIST_JOBS}`);
  }
  agent.destroy();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), bytes };
}

/**
 * WATCHERS concurrent watch connections on one namespace; for each write, the time
 * from sending it until the last watcher has received the event.
 */
async function fanout(server: TestServer): Promise<{ allP50: number; allP99: number; eachP50: number; eachP99: number; watchers: number }> {
  const base = new URL(server.url);
  const agent = makeAgent(10);
  await call(agent, new URL('/namespaces', base), 'POST', JSON.stringify({ kind: 'Namespace', metadata: { name: 'bench-fanout' } }));
  const watchAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let expected = '';
  let received = 0;
  let sentAt = 0;
  const eachLatency: number[] = [];
  let allDone: (() => void) | undefined;
  const requests: http.ClientRequest[] = [];
  let connected = 0;
  await new Promise<void>((resolveAll, rejectAll) => {
    for (let w = 0; w < WATCHERS; w++) {
      const req = http.get(new URL('/bench-fanout/jobs?watch=true', base), { agent: watchAgent, headers: auth }, (res) => {
        if (res.statusCode !== 200) return rejectAll(new Error(`watch answered ${res.statusCode}`));
        if (++connected === WATCHERS) resolveAll();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // Match on the marker instead of parsing JSON: the client must not be the bottleneck.
          if (expected && chunk.includes(expected)) {
            eachLatency.push(performance.now() - sentAt);
            if (++received === WATCHERS) allDone?.();
          }
        });
      });
      req.on('error', rejectAll);
      requests.push(req);
    }
  });
  // Let every watch finish its initial (empty) sync before writing.
  await new Promise((r) => setTimeout(r, 500));
  const allLatency: number[] = [];
  for (let i = 0; i < FANOUT_WRITES; i++) {
    expected = `"fan-${i}"`;
    received = 0;
    const done = new Promise<void>((r) => (allDone = r));
    sentAt = performance.now();
    await call(agent, new URL('/bench-fanout/jobs', base), 'POST', jobBody(`fan-${i}`, 'bench-fanout'));
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${received}/${WATCHERS} watchers saw write ${i}`)), 10_000))]);
    allLatency.push(performance.now() - sentAt);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const req of requests) req.destroy();
  watchAgent.destroy();
  agent.destroy();
  return {
    allP50: percentile(allLatency, 50),
    allP99: percentile(allLatency, 99),
    eachP50: percentile(eachLatency, 50),
    eachP99: percentile(eachLatency, 99),
    watchers: WATCHERS,
  };
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** The SQLite create row alone (bench/compare.ts runs it once per round). */
async function sqliteCreateRow(): Promise<void> {
  const server = await startServer({ auth: true, root: ROOT });
  try {
    auth = { authorization: `Bearer ${await adminToken(server)}` };
    await warmUp(server);
    const agent = makeAgent(50);
    const url = new URL('/default/jobs', server.url);
    const row = await measured(server.daemon.pid, 'API on sqlite', 'create', 50, () =>
      runLoad(N_C50, 50, async (i) => (await call(agent, url, 'POST', jobBody(`c50-${i}`))).status),
    );
    agent.destroy();
    if (JSON_OUT) printJson(row);
    else console.log(`creates on sqlite at concurrency 50: ${fmt(row.perSec, 0)}/s, server CPU ${fmt(row.cpuUs ?? NaN, 0)} µs/op, ${row.errors} errors`);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (SQLITE_CREATE_ONLY) return sqliteCreateRow();
  const machine = describeMachine();
  console.error(`bench:api on ${machine}${QUICK ? ' (quick)' : ''}`);

  console.error('SQLite store:');
  const sqliteServer = await startServer({ auth: true, root: ROOT });
  auth = { authorization: `Bearer ${await adminToken(sqliteServer)}` };
  let list: Awaited<ReturnType<typeof largeList>>;
  let fan: Awaited<ReturnType<typeof fanout>>;
  try {
    await crudRounds(sqliteServer, 'API on sqlite');
    list = await largeList(sqliteServer);
    console.error(`  list of ${LIST_JOBS} jobs: p50 ${fmt(list.p50)} ms p99 ${fmt(list.p99)} ms (${(list.bytes / 2 ** 20).toFixed(1)} MiB)`);
    fan = await fanout(sqliteServer);
    console.error(`  fan-out to ${fan.watchers} watchers: all-received p50 ${fmt(fan.allP50)} ms p99 ${fmt(fan.allP99)} ms`);
  } finally {
    await sqliteServer.stop();
  }

  console.error('etcd store:');
  const etcd = await startEtcd();
  try {
    await rawEtcd(etcd.endpoint);
    const etcdServer = await startServer({ store: `etcd://${etcd.endpoint}`, auth: true, root: ROOT });
    auth = { authorization: `Bearer ${await adminToken(etcdServer)}` };
    try {
      await crudRounds(etcdServer, 'API on etcd');
    } finally {
      await etcdServer.stop();
    }
  } finally {
    await etcd.stop();
  }

  const find = (backend: string, op: string, c: number) => rows.find((r) => r.backend === backend && r.op === op && r.concurrency === c);
  const lines: string[] = [];
  const about = [
    'API servers run with authentication on (bearer token), as users run them.',
    `Before any recorded row each API server gets ${WARMUP} unrecorded creates and gets, and the raw etcd client ${WARMUP} puts and txns,`,
    'at concurrency 50, so every row measures warm code. "server CPU µs/op" is the API server process\'s user+system time per',
    'operation (from /proc), the steadiest figure on shared cores.',
  ].join(' ');
  lines.push(`### bench:api — ${new Date().toISOString().slice(0, 10)}`, '', `Machine: ${machine}`, '', about, '');
  lines.push('| backend | operation | concurrency | n | ops/s | p50 ms | p99 ms | server CPU µs/op | errors |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const cpu = r.cpuUs === undefined ? '—' : fmt(r.cpuUs, 0);
    lines.push(`| ${r.backend} | ${r.op} | ${r.concurrency} | ${r.n} | ${fmt(r.perSec, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${cpu} | ${r.errors} |`);
  }
  lines.push('');
  for (const c of [1, 50]) {
    const api = find('API on etcd', 'create', c);
    const raw = find(RAW_PUT, 'put', c);
    const txn = find(RAW_TXN, 'txn create', c);
    if (api && raw)
      lines.push(
        `- API-on-etcd creates / raw etcd puts at concurrency ${c}: **${((api.perSec / raw.perSec) * 100).toFixed(0)}%** (${fmt(api.perSec, 0)} vs ${fmt(raw.perSec, 0)} per s)`,
      );
    if (api && txn)
      lines.push(
        `- API-on-etcd creates / raw etcd create txns at concurrency ${c}: **${((api.perSec / txn.perSec) * 100).toFixed(0)}%** (${fmt(api.perSec, 0)} vs ${fmt(txn.perSec, 0)} per s)`,
      );
  }
  const sqliteCreate = find('API on sqlite', 'create', 50);
  if (sqliteCreate) lines.push(`- creates on sqlite at concurrency 50: **${fmt(sqliteCreate.perSec, 0)}/s** (target ≥ 5,000)`);
  lines.push(
    `- list of ${LIST_JOBS} jobs (${(list.bytes / 2 ** 20).toFixed(1)} MiB JSON): p50 **${fmt(list.p50)} ms**, p99 **${fmt(list.p99)} ms** (target p99 < 150 ms)`,
  );
  lines.push(
    `- watch fan-out, ${fan.watchers} watchers, ${FANOUT_WRITES} writes: until every watcher has the event p50 **${fmt(fan.allP50)} ms**, p99 **${fmt(fan.allP99)} ms** (target p99 < 100 ms); per watcher p50 ${fmt(fan.eachP50)} ms, p99 ${fmt(fan.eachP99)} ms`,
  );
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
