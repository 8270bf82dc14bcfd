/**
 * npm run bench:agents [-- --agents 100] [--window-seconds 20] [--heartbeat-seconds 3] [--mib 1024] [--pings 2000]
 *
 * Real hosts in network namespaces (test/infra/netns.ts): `skyshift up` in `cp`, the agents in `ag`
 * (one namespace for all of them), this process as the operator on the lab network.
 *
 *   join       N agents (runner processes of 25 `runAgent` each: real clients, real tunnel WebSockets)
 *              joined with tokens from POST /clusters/NAME/agent-tokens; time until all READY
 *   heartbeat  server CPU per agent heartbeat: the API server's CPU over a window with N agents
 *              connected, minus its idle CPU over the same window before any agent (the baseline),
 *              divided by the heartbeats seen on a watch of clusters
 *   restart    SIGTERM + start the server; time until every agent has reported again (goal < 10 s),
 *              and the agents' tunnel connections per 500 ms (no reconnect storm: no spike, few retries)
 *   forward    one `skyshift agent` process; a replica serving bytes on 0.0.0.0:P in `ag`: 1 GiB
 *              through `skyctl port-forward` (server + tunnel) vs a direct TCP connection from here to
 *              the same port (goal >= 50%); p50/p99 of 1-byte round trips both ways
 *
 * `--runner` is the mode this script starts inside `ag` to host agents. Everything is stopped by PID;
 * the namespaces are removed by name (also if this process dies). Prints a Markdown block.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkyShiftClient } from '../src/client/index.js';
import type { NetnsLab } from '../test/infra/netns.js';
import type { Daemon } from '../test/infra/process.js';
import { REPO_ROOT } from '../test/infra/server.js';
import { spawnSkyctl } from '../test/infra/skyctl.js';
import { startAgentLab } from '../test/agents/harness.js';
import { flag, numberOption, stringOption } from './lib/args.js';
import { describeMachine } from './lib/machine.js';
import { cpuTicks, ticksToMs } from './lib/proc.js';

import type { ApiObject } from '../src/api/index.js';

type Obj = ApiObject<Record<string, unknown>, { phase?: string; lastHeartbeatTime?: string }>;
const PER_RUNNER = 25;
const PORT = 7000;
/** The runtime's and the tunnel's log lines the runner passes on (src/agent/runtime.ts, src/network/tunnel/connect.ts). */
const COUNTED = ['agent tunnel connected', 'connected: running the skylet', 'cannot reach the server or register', 'agent tunnel: cannot connect; retrying'];

// --- runner: many agents in one process, inside the agents' namespace -----------------------------
async function runner(): Promise<void> {
  const { runAgent, agentCluster } = await import('../src/agent/index.js');
  const { registerClusterConfigSchemas } = await import('../src/api/index.js');
  const { clusterConfigSchemas, createManager } = await import('../src/managers/index.js');
  const { readFileSync } = await import('node:fs');
  registerClusterConfigSchemas(clusterConfigSchemas());
  const server = stringOption('server') ?? '';
  const dir = stringOption('dir') ?? '';
  const names = (stringOption('names') ?? '').split(',').filter(Boolean);
  const hb = numberOption('heartbeat-seconds', 3);
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  // Only the lines the parent counts, as JSON: {t, agent, msg}.
  const say = (agent: string, msg: string) => process.stdout.write(JSON.stringify({ t: Date.now(), agent, msg }) + '\n');
  const keep = setInterval(() => {}, 1 << 30);
  await Promise.all(
    names.map((name) => {
      const token = readFileSync(join(dir, `${name}.token`), 'utf8').trim();
      const log = (msg?: string) => {
        if (COUNTED.includes(msg ?? '')) say(name, msg ?? '');
      };
      const logger = {
        debug() {},
        info: (_o: object, m?: string) => log(m),
        warn: (_o: object, m?: string) => log(m),
        error: (_o: object, m?: string) => log(m),
      };
      const cluster = agentCluster(name, { manager: 'local', workdir: join(dir, 'work', name) }, { cpus: 1, memory: 1024, gpus: 0 });
      return runAgent({
        client: new SkyShiftClient({ server, token }),
        server,
        token,
        cluster,
        manager: (registered) => createManager(registered),
        logger,
        options: { heartbeatSeconds: hb },
        signal: abort.signal,
      });
    }),
  );
  clearInterval(keep);
}

// --- main ------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const N = numberOption('agents', 100);
  const WINDOW = numberOption('window-seconds', 20);
  const HB = numberOption('heartbeat-seconds', 3);
  const MIB = numberOption('mib', 1024);
  const PINGS = numberOption('pings', 2000);
  const L = await startAgentLab({ agents: ['ag'], heartbeatSeconds: HB, upArgs: ['--eviction-grace-seconds', '30'] });
  const runners: Daemon[] = [];
  const events: Array<{ t: number; agent: string; msg: string }> = [];
  const out: string[] = [];
  try {
    const server = () => L.agent('cp') as Daemon;
    // Baseline: the idle server's CPU over one window.
    const idle0 = cpuTicks(server().pid);
    await sleep(WINDOW * 1000);
    const idleMs = ticksToMs(cpuTicks(server().pid) - idle0);

    // Join N agents (the REST calls `skyctl create cluster NAME --agent` makes: N skyctl processes would cost minutes of CPU here).
    const names = Array.from({ length: N }, (_, i) => `b${String(i).padStart(3, '0')}`);
    for (const name of names) await mint(L.client, L.url, L.adminToken, L.dir, name);
    const joinStart = performance.now();
    for (let i = 0; i < N; i += PER_RUNNER) runners.push(startRunner(L.lab, L.url, L.dir, names.slice(i, i + PER_RUNNER), HB, events, i / PER_RUNNER));
    await until(`${N} agents READY`, async () => (await heartbeats(L.client, names)).ready === N, 180_000);
    const joinS = (performance.now() - joinStart) / 1000;

    // Server CPU per heartbeat, heartbeats counted on a watch.
    const beats = countBeats(L.client);
    await sleep(2000);
    const busy0 = cpuTicks(server().pid);
    const c0 = beats.count;
    await sleep(WINDOW * 1000);
    const busyMs = ticksToMs(cpuTicks(server().pid) - busy0);
    const seen = beats.count - c0;
    beats.stop();

    // Restart: every agent reports again.
    const before = await heartbeats(L.client, names);
    const stopAt = performance.now();
    const evFrom = events.length;
    await L.restartServer();
    const upAt = performance.now();
    await until(
      'every agent heartbeat after the restart',
      async () => {
        const now = await heartbeats(L.client, names);
        return names.every((n) => now.beat.get(n) !== undefined && now.beat.get(n) !== before.beat.get(n) && now.phase.get(n) === 'READY');
      },
      120_000,
      100,
    );
    const backAt = performance.now();
    // The tunnels reconnect on their own backoff, independent of the heartbeats.
    const tunnelsBack = () =>
      new Set(
        events
          .slice(evFrom)
          .filter((e) => e.msg === 'agent tunnel connected')
          .map((e) => e.agent),
      ).size;
    await until('every agent tunnel back', () => tunnelsBack() === N, 90_000, 100).catch(() => undefined);
    const tunnelsAt = performance.now();
    const conns = events.slice(evFrom).filter((e) => e.msg === 'agent tunnel connected');
    const sessions = events.slice(evFrom).filter((e) => e.msg === 'connected: running the skylet');
    const retries = events.slice(evFrom).filter((e) => e.msg === 'cannot reach the server or register').length;
    const tunnelRetries = events.slice(evFrom).filter((e) => e.msg === 'agent tunnel: cannot connect; retrying').length;
    const buckets = histogram(
      conns.map((e) => e.t),
      500,
    );

    for (const r of runners) await r.stop(5000);
    runners.length = 0;

    // Port-forward vs direct, through one real `skyshift agent` process.
    await mint(L.client, L.url, L.adminToken, L.dir, 'fw');
    L.startAgent('ag', { cluster: 'fw', args: ['--cpus', '2', '--memory', '2Gi'] });
    await until('fw READY', async () => (await L.client.get<Obj>('clusters', 'fw')).status?.phase === 'READY', 60_000);
    const fw = await L.client.get<Obj>('clusters', 'fw');
    await L.client.update('clusters', { ...fw, metadata: { ...fw.metadata, labels: { ...fw.metadata.labels, bench: 'fw' } } });
    await L.client.create('jobs', {
      kind: 'Job',
      metadata: { name: 'bytes', namespace: 'default' },
      spec: {
        run: `node -e ${JSON.stringify(BYTE_SERVER)} ${PORT}`,
        resources: { cpus: 1, memory: 64 },
        placement: { filters: [{ name: 'fw', matchLabels: { bench: 'fw' } }] },
      },
    });
    const agIp = L.lab.host('ag').ip;
    await until('replica serving', () => ping(agIp, PORT, 1).then(() => true), 60_000, 300);
    const pf = spawnSkyctl(['--server', L.url, 'port-forward', 'bytes', `:${PORT}`], { home: join(L.dir, 'cp') });
    let pfOut = '';
    pf.stdout.on('data', (d: Buffer) => (pfOut += d.toString()));
    try {
      const local = await until('Forwarding from', () => Number(/Forwarding from [^\s]*:(\d+)/.exec(pfOut)?.[1]) || undefined, 30_000);
      const bytes = MIB * 2 ** 20;
      const direct = await download(agIp, PORT, bytes);
      const tunnel = await download('127.0.0.1', local, bytes);
      const pDirect = await ping(agIp, PORT, PINGS);
      const pTunnel = await ping('127.0.0.1', local, PINGS);
      out.push(
        `| port-forward ${MIB} MiB | direct ${mbps(bytes, direct)} MB/s | tunnel ${mbps(bytes, tunnel)} MB/s | **${((direct / tunnel) * 100).toFixed(0)}% of direct** (goal ≥ 50%) |`,
        `| round trip, 1 byte ×${PINGS} | direct p50 ${q(pDirect, 0.5)} / p99 ${q(pDirect, 0.99)} ms | tunnel p50 ${q(pTunnel, 0.5)} / p99 ${q(pTunnel, 0.99)} ms | added p50 ${(q(pTunnel, 0.5) - q(pDirect, 0.5)).toFixed(2)} / p99 ${(q(pTunnel, 0.99) - q(pDirect, 0.99)).toFixed(2)} ms |`,
      );
    } finally {
      pf.kill('SIGTERM');
    }

    const perBeat = (busyMs - idleMs) / Math.max(1, seen);
    console.log(`\n## bench:agents\n\n${describeMachine()}\n`);
    console.log('| figure | value | baseline / detail | |\n|---|---|---|---|');
    console.log(`| join: ${N} agents READY | ${joinS.toFixed(1)} s | ${PER_RUNNER} agents per runner process | |`);
    console.log(
      `| server CPU per agent heartbeat | ${perBeat.toFixed(2)} ms | ${busyMs} ms CPU in ${WINDOW} s with ${N} agents vs ${idleMs} ms idle; ${seen} heartbeats (${(seen / WINDOW).toFixed(1)}/s at --heartbeat-seconds ${HB}) | server ${((busyMs / WINDOW / 1000) * 100).toFixed(1)}% of a core |`,
    );
    console.log(
      `| all ${N} READY again after a server restart | **${((backAt - upAt) / 1000).toFixed(1)} s** after it serves (goal < 10 s) | ${((backAt - stopAt) / 1000).toFixed(1)} s from SIGTERM | |`,
    );
    console.log(`| all ${N} tunnels connected again | ${tunnelsBack()} of ${N} after ${((tunnelsAt - upAt) / 1000).toFixed(1)} s | | |`);
    console.log(
      `| reconnections after the restart | ${conns.length} tunnels, ${sessions.length} sessions; failed attempts: ${tunnelRetries} tunnel, ${retries} session | tunnels: max ${Math.max(0, ...buckets)} per 500 ms | per 500 ms: ${buckets.join(' ')} |`,
    );
    for (const line of out) console.log(line);
  } finally {
    for (const r of runners) await r.stop(5000);
    await L.cleanup();
  }
}

/** The replica: `GET <n>` gets n bytes, anything else is echoed (one line: it goes through `node -e "..."`). */
const BYTE_SERVER = [
  "require('net').createServer((s) => { s.on('error', () => {}); let mode = ''; s.on('data', (d) => {",
  "if (mode === '' && d[0] === 71) { mode = 'get'; let n = Number(d.toString().slice(4)); const c = Buffer.alloc(1 << 20, 120);",
  "const pump = () => { while (n > 0) { const k = Math.min(n, c.length); n -= k; if (!s.write(k === c.length ? c : c.subarray(0, k))) return void s.once('drain', pump); } }; pump(); }",
  "else { mode = 'echo'; s.write(d); } }); }).listen(Number(process.argv[1]), '0.0.0.0')",
].join(' ');

async function mint(client: SkyShiftClient, url: string, admin: string, dir: string, name: string): Promise<void> {
  await client.create('clusters', { kind: 'Cluster', metadata: { name }, spec: { manager: 'local', agent: true, config: {} } });
  const res = await fetch(`${url}/clusters/${name}/agent-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`mint ${name}: ${res.status} ${JSON.stringify(body)}`);
  writeFileSync(join(dir, `${name}.token`), body.token, { mode: 0o600 });
}

function startRunner(
  lab: NetnsLab,
  url: string,
  dir: string,
  names: string[],
  hb: number,
  events: Array<{ t: number; agent: string; msg: string }>,
  i: number,
): Daemon {
  const args = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'bench/agents.ts'),
    '--runner',
    '--server',
    url,
    '--dir',
    dir,
    '--names',
    names.join(','),
    '--heartbeat-seconds',
    String(hb),
  ];
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true, mode: 0o711 });
  const d = lab.spawn('ag', process.execPath, args, { logFile: join(dir, `runner-${i}.log`), cwd: REPO_ROOT, env: { HOME: join(dir, 'ag') } });
  createInterface({ input: d.child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as { t: number; agent: string; msg: string });
    } catch {
      /* not ours */
    }
  });
  return d;
}

async function heartbeats(client: SkyShiftClient, names: string[]) {
  const want = new Set(names);
  const page = await client.list<Obj>('clusters', { limit: 1000 });
  const beat = new Map<string, string | undefined>();
  const phase = new Map<string, string | undefined>();
  for (const c of page.items) {
    if (!want.has(c.metadata.name)) continue;
    beat.set(c.metadata.name, c.status?.lastHeartbeatTime);
    phase.set(c.metadata.name, c.status?.phase);
  }
  return { beat, phase, ready: [...phase.values()].filter((p) => p === 'READY').length };
}

function countBeats(client: SkyShiftClient): { count: number; stop(): void } {
  const abort = new AbortController();
  const last = new Map<string, string>();
  const state = { count: 0, stop: () => abort.abort() };
  void (async () => {
    try {
      for await (const ev of client.watch<Obj>('clusters', { signal: abort.signal })) {
        const o = ev.object as Obj | undefined;
        const b = o?.status?.lastHeartbeatTime;
        if (!o || !b || last.get(o.metadata.name) === b) continue;
        if (last.has(o.metadata.name)) state.count++;
        last.set(o.metadata.name, b);
      }
    } catch {
      /* stopped */
    }
  })();
  return state;
}

/** Milliseconds to receive `bytes` from the byte server at host:port. */
function download(host: string, port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    let got = 0;
    const t0 = performance.now();
    s.on('connect', () => s.write(`GET ${bytes}\n`));
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got < bytes) return;
      s.destroy();
      resolve(performance.now() - t0);
    });
    s.on('error', reject);
    s.on('close', () => got < bytes && reject(new Error(`closed after ${got} of ${bytes} bytes from ${host}:${port}`)));
  });
}

/** `n` sequential 1-byte round trips: their times in ms. */
function ping(host: string, port: number, n: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    s.setNoDelay(true);
    const times: number[] = [];
    let t0 = 0;
    const send = () => {
      t0 = performance.now();
      s.write('p');
    };
    s.on('connect', send);
    s.on('data', () => {
      times.push(performance.now() - t0);
      if (times.length < n) return send();
      s.destroy();
      resolve(times);
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve(check()).catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function histogram(ts: number[], bucketMs: number): number[] {
  if (ts.length === 0) return [];
  const t0 = Math.min(...ts);
  const out: number[] = [];
  for (const t of ts) {
    const i = Math.floor((t - t0) / bucketMs);
    out[i] = (out[i] ?? 0) + 1;
  }
  return Array.from(out, (v) => v ?? 0);
}

const q = (xs: number[], p: number) => Number([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]?.toFixed(2) ?? NaN);
const mbps = (bytes: number, ms: number) => (bytes / 2 ** 20 / (ms / 1000)).toFixed(0);

// Last: main() uses the constants above, which a top-level await before them would find uninitialised.
if (flag('runner')) await runner();
else await main();
