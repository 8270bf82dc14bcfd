/**
 * node --import tsx bench/auth-overhead.ts [--quick] — what authentication and
 * authorisation cost on the hot path: creates/s and p50/p99 at concurrency 50
 * through HTTP on SQLite, against two real `skyshift server` processes started
 * side by side, one with auth (admin token from POST /login) and one with
 * --no-auth. Runs alternate on/off inside each round (the machine is shared,
 * so only interleaved runs are comparable); figures are medians of the rounds.
 *
 *   --rounds N        interleaved rounds (default 3)
 *   --baseline DIR    also an auth-on server from another checkout (e.g. a
 *                     `git worktree` of an older commit), for before/after
 */
import { startServer, type TestServer } from '../test/infra/server.js';
import { flag, numberOption, stringOption } from './lib/args.js';
import { adminToken } from './lib/auth.js';
import { makeAgent, median, percentile, request, runLoad } from './lib/http.js';
import { cpuTicks } from './lib/proc.js';

const QUICK = flag('quick');
const ROUNDS = numberOption('rounds', 3);
const BASELINE = stringOption('baseline');
const N = QUICK ? 3000 : 10000;
const WARMUP = QUICK ? 1000 : 3000;
const CONCURRENCY = 50;

interface Run {
  /** Server CPU (user+sys) per create: far steadier than wall-clock rates when other work shares the cores. */
  cpuUs: number;
  perSec: number;
  p50: number;
  p99: number;
}

function jobBody(name: string): string {
  return JSON.stringify({
    kind: 'Job',
    metadata: { name, labels: { app: 'bench' } },
    spec: { run: 'echo hello', replicas: 1, resources: { cpus: 1, memory: '512Mi' } },
  });
}

async function creates(server: TestServer, headers: Record<string, string>, prefix: string, n: number): Promise<Run> {
  const agent = makeAgent(CONCURRENCY);
  const cpu0 = cpuTicks(server.daemon.pid);
  const url = new URL('/default/jobs', server.url);
  const r = await runLoad(n, CONCURRENCY, async (i) => (await request(agent, url, 'POST', jobBody(`${prefix}-${i}`), headers)).status);
  agent.destroy();
  if (r.errors > 0) throw new Error(`${r.errors} errors, first: ${r.firstError}`);
  const cpuUs = ((cpuTicks(server.daemon.pid) - cpu0) * 10_000) / n;
  return { cpuUs, perSec: (n / r.wallMs) * 1000, p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99) };
}

function summary(runs: Run[]): Run {
  return {
    cpuUs: median(runs.map((r) => r.cpuUs)),
    perSec: median(runs.map((r) => r.perSec)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
  };
}

const servers: TestServer[] = [];
try {
  const on = await startServer({ auth: true });
  servers.push(on);
  const off = await startServer({ auth: false });
  servers.push(off);
  const auth = { authorization: `Bearer ${await adminToken(on)}` };
  const variants: { name: string; server: TestServer; headers: Record<string, string> }[] = [
    { name: 'auth on', server: on, headers: auth },
    { name: '--no-auth', server: off, headers: {} },
  ];
  if (BASELINE) {
    const base = await startServer({ auth: true, root: BASELINE });
    servers.push(base);
    variants.push({ name: 'auth on (baseline)', server: base, headers: { authorization: `Bearer ${await adminToken(base)}` } });
  }
  for (const v of variants) await creates(v.server, v.headers, 'warm', WARMUP);
  const results = new Map<string, Run[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which goes first so none always gets the quieter slot.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      const run = await creates(v.server, v.headers, `r${round}`, N);
      results.get(v.name)!.push(run);
      console.error(
        `  round ${round + 1} ${v.name}: ${run.perSec.toFixed(0)}/s ${run.cpuUs.toFixed(0)} µs CPU/create p50 ${run.p50.toFixed(2)} ms p99 ${run.p99.toFixed(2)} ms`,
      );
    }
  }
  console.log(`\ncreates, sqlite, concurrency ${CONCURRENCY}, ${N} per run, median of ${ROUNDS} interleaved rounds\n`);
  console.log('| server | creates/s | server CPU µs/create | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  const rows = variants.map((v) => ({ name: v.name, s: summary(results.get(v.name)!) }));
  for (const { name, s } of rows) console.log(`| ${name} | ${s.perSec.toFixed(0)} | ${s.cpuUs.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} |`);
  // Per-round ratios against the --no-auth run of the same round: steadier than ratios of medians on a noisy machine.
  const noAuth = results.get('--no-auth')!;
  for (const v of variants.filter((v) => v.name !== '--no-auth')) {
    const ratios = results.get(v.name)!.map((r, i) => r.perSec / noAuth[i]!.perSec);
    const cpu = results.get(v.name)!.map((r, i) => r.cpuUs / noAuth[i]!.cpuUs);
    console.log(
      `${v.name}: costs ${((1 - median(ratios)) * 100).toFixed(1)}% of --no-auth create throughput, ` +
        `${((median(cpu) - 1) * 100).toFixed(1)}% more server CPU per create (medians of per-round ratios)`,
    );
  }
} finally {
  for (const s of servers) await s.stop();
}
