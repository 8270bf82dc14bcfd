/**
 * A real `skyshift up` process (API server + controllers + optional local
 * cluster) for end-to-end tests and benchmarks. HOME is the test directory,
 * so ~/.skyshift and ~/.skyconf are private to the test. Stopped by PID; local
 * replicas (their own process groups, they outlive skyshift by design) are
 * found by their working directory under the test directory and stopped too.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/cli/index.js';
import { SkyShiftClient } from '../../src/client/index.js';
import type { ApiObject } from '../../src/api/index.js';
import { freePort, waitFor } from './ports.js';
import { startDaemon, type Daemon } from './process.js';
import { REPO_ROOT } from './server.js';
import { runSkyctl, type SkyctlRun } from './skyctl.js';

export { SKYCTL_BIN, SKYSHIFT_BIN, REPO_ROOT } from './server.js';
export type { SkyctlRun } from './skyctl.js';

export interface SkyShiftOptions {
  /** Reused across restarts; default a fresh temp dir (removed by `cleanup`). */
  dir?: string;
  port?: number;
  /** Extra `skyshift up` arguments, e.g. ['--no-local-cluster', '--heartbeat-seconds', '1']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for /readyz. */
  readyTimeoutMs?: number;
  /** The source tree whose src/bin/skyshift.ts runs (bench/compare.ts points it at a worktree of an older commit); default this repo. */
  root?: string;
}

export interface SkyShiftInstance {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** A directory every replica may write to (like a shared filesystem): markers tests count. */
  readonly shared: string;
  readonly logFile: string;
  readonly client: SkyShiftClient;
  /** The admin bearer token `skyshift up` wrote (undefined with --no-auth). */
  readonly token: string | undefined;
  /** The current process (changes on restart). */
  readonly daemon: Daemon;
  /** SIGTERM skyshift (SIGKILL after a grace period). Replicas keep running. */
  stop(): Promise<void>;
  /** SIGKILL skyshift at once. Replicas keep running. */
  kill9(): Promise<void>;
  /** Start skyshift again on the same port, store and HOME. */
  restart(): Promise<void>;
  /** Stop skyshift, kill every replica process working under `dir`, delete `dir` (unless SKYSHIFT_E2E_KEEP is set or the dir was given). */
  cleanup(): Promise<void>;
  /** Last `lines` lines of the skyshift log (for failure messages). */
  logTail(lines?: number): string;
}

export async function startSkyShift(options: SkyShiftOptions = {}): Promise<SkyShiftInstance> {
  const owned = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'skyshift-e2e-'));
  // Local replicas run as an unprivileged user when the tests run as root: they must be able
  // to enter (not list) the test dir to reach their work dirs under it (SKYSHIFT_WORK_ROOT).
  chmodSync(dir, 0o711);
  const shared = join(dir, 'shared');
  mkdirSync(shared, { recursive: true });
  chmodSync(shared, 0o777);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'skyshift.log');
  const root = options.root ?? REPO_ROOT;
  const args = [
    '--import',
    'tsx',
    join(root, 'src/bin/skyshift.ts'),
    'up',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--store',
    `sqlite:${join(dir, 'db')}`,
    ...(options.args ?? []),
  ];
  let daemon: Daemon | undefined;
  let cleaned = false;
  let client = new SkyShiftClient({ server: url });
  let adminBearer: string | undefined;

  const launch = async () => {
    const d = startDaemon(process.execPath, args, { logFile, env: { HOME: dir, SKYSHIFT_WORK_ROOT: join(dir, 'work'), ...options.env }, cwd: root });
    daemon = d;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) {
        throw new Error(`skyshift up exited with ${d.child.exitCode ?? d.child.signalCode} before serving; log ${logFile}:\n${tail(logFile, 20)}`);
      }
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      // `up` has auth on unless --no-auth: act as the admin whose token it writes for skyctl just after serving.
      const auth = !args.includes('--no-auth');
      const token = auth ? adminToken(dir).token : undefined;
      if (ok && (!auth || token)) {
        client = new SkyShiftClient({ server: url, ...(token ? { token } : {}) });
        adminBearer = token;
        return;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for skyshift up on ${url}; log ${logFile}:\n${tail(logFile, 20)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const instance: SkyShiftInstance = {
    url,
    port,
    dir,
    shared,
    logFile,
    get client() {
      return client;
    },
    get token() {
      return adminBearer;
    },
    get daemon() {
      if (!daemon) throw new Error('skyshift is not running');
      return daemon;
    },
    async stop() {
      await daemon?.stop(10_000);
      daemon = undefined;
    },
    async kill9() {
      await daemon?.kill();
      daemon = undefined;
    },
    async restart() {
      await daemon?.stop(10_000);
      await launch();
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await daemon?.stop(10_000);
      daemon = undefined;
      await killProcessesUnder(dir);
      if (owned && !process.env['SKYSHIFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
    },
    logTail(lines = 40) {
      return tail(logFile, lines);
    },
  };

  try {
    await launch();
  } catch (err) {
    await instance.cleanup();
    throw err;
  }
  return instance;
}

/** The last `lines` lines of a log file, or '(no log)'. */
export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * SIGKILL the process group of every process whose working directory is under
 * `dir` (local replicas run in their own work dirs there, in their own groups),
 * then wait until they are gone.
 */
export async function killProcessesUnder(dir: string): Promise<number> {
  const groups = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (cwd !== dir && !cwd.startsWith(dir + '/')) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      groups.add(pgrp > 1 && pgrp !== process.pid ? pgrp : pid);
    } catch {
      continue;
    }
  }
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      try {
        process.kill(g, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && [...groups].some((g) => existsSync(`/proc/${g}`) && !isZombie(g))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return groups.size;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

// --- observing state -------------------------------------------------------

export type Obj = ApiObject<any, any>;

/**
 * Poll a job until `predicate` holds; on timeout the error carries the job's
 * last status so a failing test says what it saw.
 */
export async function waitForJob(
  client: SkyShiftClient,
  namespace: string,
  name: string,
  predicate: (job: Obj) => boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<Obj> {
  const deadline = Date.now() + timeoutMs;
  let last: Obj | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await client.get<Obj>('jobs', name, { namespace });
      if (predicate(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for job ${namespace}/${name} (${what}); last status: ${JSON.stringify(last?.status)}` +
      (lastError ? `; last error: ${String(lastError)}` : ''),
  );
}

export const phaseIs =
  (...phases: string[]) =>
  (job: Obj): boolean =>
    phases.includes(job.status?.phase);

/** Poll until every job in `names` satisfies `predicate`. */
export async function waitForJobs(
  client: SkyShiftClient,
  namespace: string,
  names: string[],
  predicate: (job: Obj) => boolean,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<Obj[]> {
  const deadline = Date.now() + timeoutMs;
  const want = new Set(names);
  let lastBad: Obj[] = [];
  for (;;) {
    const all = await listAll(client, 'jobs', namespace);
    const mine = all.filter((j) => want.has(j.metadata.name));
    lastBad = mine.filter((j) => !predicate(j));
    if (mine.length === want.size && lastBad.length === 0) return mine;
    if (Date.now() > deadline) {
      const missing = [...want].filter((n) => !mine.some((j) => j.metadata.name === n));
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${names.length} jobs (${what}): ${lastBad.length} not there yet, ${missing.length} missing; e.g. ` +
          lastBad
            .slice(0, 3)
            .map((j) => `${j.metadata.name}: ${JSON.stringify(j.status)}`)
            .join('; '),
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function listAll(client: SkyShiftClient, kind: string, namespace?: string): Promise<Obj[]> {
  const out: Obj[] = [];
  let cont: string | undefined;
  do {
    const page = await client.list<Obj>(kind, { ...(namespace ? { namespace } : {}), limit: 500, ...(cont ? { continue: cont } : {}) });
    out.push(...page.items);
    cont = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
  } while (cont);
  return out;
}

export async function waitForCluster(client: SkyShiftClient, name: string, phase = 'READY', timeoutMs = 30_000): Promise<Obj> {
  let last: Obj | undefined;
  await waitFor(
    `cluster ${name} ${phase}`,
    async () => {
      last = await client.get<Obj>('clusters', name);
      return last.status?.phase === phase;
    },
    timeoutMs,
    150,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last?.status)}`);
  });
  return last as Obj;
}

/** A local cluster of `cpus` cpus whose workdir is `<dir>/clusters/<name>`. */
export function localCluster(dir: string, name: string, cpus: number, labels: Record<string, string> = {}, memory = 8192): Obj {
  return {
    kind: 'Cluster',
    metadata: { name, labels },
    spec: { manager: 'local', config: { cpus, memory, workdir: join(dir, 'clusters', name) } },
  } as Obj;
}

export interface LocalClusterSpec {
  name: string;
  cpus: number;
  labels?: Record<string, string>;
}

/**
 * Create local clusters (workdirs under `sky.dir`) and wait until each is
 * READY, so a test's first job already sees their capacity. All are created
 * before any is awaited, so they come up in parallel.
 */
export async function createLocalClusters(sky: SkyShiftInstance, clusters: LocalClusterSpec[]): Promise<void> {
  for (const c of clusters) await sky.client.create('clusters', localCluster(sky.dir, c.name, c.cpus, c.labels));
  for (const c of clusters) await waitForCluster(sky.client, c.name);
}

export function job(
  name: string,
  run: string,
  extra: { replicas?: number; cpus?: number; memory?: number; labels?: Record<string, string>; placement?: unknown; priority?: number } = {},
): Obj {
  return {
    kind: 'Job',
    metadata: { name, namespace: 'default', labels: extra.labels ?? {} },
    spec: {
      run,
      replicas: extra.replicas ?? 1,
      resources: { cpus: extra.cpus ?? 1, memory: extra.memory ?? 64 },
      ...(extra.placement ? { placement: extra.placement } : {}),
      ...(extra.priority !== undefined ? { priority: extra.priority } : {}),
    },
  } as Obj;
}

/**
 * Clusters a job's replicas were placed on: `status.placements` ({cluster: ranks})
 * when the controllers record it (also accepted as `placement`/`clusters`),
 * else the replica counts of `status.replicaStatus`.
 */
export function placementCounts(j: Obj): Record<string, number> {
  const st = j.status ?? {};
  for (const key of ['placements', 'placement', 'clusters']) {
    const p = st[key];
    if (p && typeof p === 'object' && !Array.isArray(p)) {
      const out: Record<string, number> = {};
      for (const [c, v] of Object.entries(p)) {
        if (Array.isArray(v)) out[c] = v.length;
        else if (typeof v === 'number') out[c] = v;
        else if (v && typeof v === 'object' && Array.isArray((v as { ranks?: unknown }).ranks)) out[c] = (v as { ranks: unknown[] }).ranks.length;
      }
      if (Object.keys(out).length) return out;
    }
  }
  return replicaCounts(j);
}

/** {cluster: number of replicas in any state but EVICTED}, from replicaStatus. */
export function replicaCounts(j: Obj, exclude: string[] = ['EVICTED']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cluster, states] of Object.entries((j.status?.replicaStatus ?? {}) as Record<string, Record<string, number>>)) {
    let n = 0;
    for (const [state, count] of Object.entries(states)) if (!exclude.includes(state)) n += count;
    if (n > 0) out[cluster] = n;
  }
  return out;
}

/** Clusters holding at least one replica of the job in `state`. */
export function clustersWithState(j: Obj, state: string): string[] {
  return Object.entries((j.status?.replicaStatus ?? {}) as Record<string, Record<string, number>>)
    .filter(([, s]) => (s[state] ?? 0) > 0)
    .map(([c]) => c)
    .sort();
}

/** Message of the job's conditions, joined (for PENDING reasons). */
export function conditionText(j: Obj): string {
  return ((j.status?.conditions ?? []) as Array<{ type?: string; reason?: string; message?: string }>)
    .map((c) => `${c.type ?? ''} ${c.reason ?? ''}: ${c.message ?? ''}`)
    .join('\n');
}

export async function eventsFor(client: SkyShiftClient, namespace: string, name: string, kind = 'Job'): Promise<Obj[]> {
  const all = await listAll(client, 'events', namespace);
  return all.filter((e) => e.spec?.involvedObject?.name === name && e.spec?.involvedObject?.kind === kind);
}

/**
 * Events are recorded after the write they describe, so a test that saw the
 * status change waits for the Event rather than expecting it already there.
 * Resolves to the object's events once one has `reason`; fails with the reasons seen.
 */
export async function waitForEvent(client: SkyShiftClient, namespace: string, name: string, reason: string, timeoutMs = 10_000): Promise<Obj[]> {
  let events: Obj[] = [];
  try {
    await waitFor(
      `a ${reason} event for ${namespace}/${name}`,
      async () => {
        events = await eventsFor(client, namespace, name);
        return events.some((e) => e.spec?.reason === reason);
      },
      timeoutMs,
      100,
    );
  } catch {
    throw new Error(`expected a ${reason} event for ${namespace}/${name}, got ${JSON.stringify(events.map((e) => e.spec?.reason))}`);
  }
  return events;
}

// --- marker files ----------------------------------------------------------

/** Lines of a marker file counted: line -> occurrences. */
export function countMarkers(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return counts;
}

/**
 * The largest number of intervals open at once. `intervals` are [start, end]
 * in any unit; an interval ending at t and one starting at t do not overlap.
 */
export function maxOverlap(intervals: Array<[number, number]>): number {
  const points: Array<[number, number]> = [];
  for (const [s, e] of intervals) {
    points.push([s, +1], [e, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of points) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- skyctl ----------------------------------------------------------------

/** Run `skyctl --server URL ...args` as a real process with HOME=home. */
export function skyctl(url: string, home: string, args: string[], timeoutMs = 30_000): Promise<SkyctlRun> {
  return runSkyctl(args, { home, server: url, timeoutMs });
}

/** The token `skyshift up` wrote into HOME's skyctl config (context admin-default), if any. */
function adminToken(home: string): { token?: string } {
  const path = join(home, '.skyconf', 'config.yaml');
  if (!existsSync(path)) return {};
  const token = loadConfig(path).contexts.find((c) => c.name === 'admin-default')?.token;
  return token ? { token } : {};
}
