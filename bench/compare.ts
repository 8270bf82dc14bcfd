/**
 * npm run bench:compare -- --base REF [--head REF] [--rounds N] [--jobs N] [--clusters N] [--fresh-install]
 *
 * Is HEAD slower than REF? Checks REF out in a temporary `git worktree` and
 * measures both in one run, in interleaved rounds (REF, HEAD, REF, HEAD, ...)
 * so that noise on the shared machine hits both alike:
 *  - bench:scheduler's pending backlog placed (jobs/s; --backlog-only), with
 *    its over-commit checks;
 *  - bench:api's SQLite create row (creates/s at concurrency 50, after the
 *    same warm-up; --sqlite-create-only).
 * Both sides run under THIS tree's bench harness (bench/scheduler.ts,
 * bench/api.ts with --root): only the `skyshift` processes come from REF's
 * tree, so REF needs none of the flags the harness gained later. The harness
 * talks HTTP only, so it works for any REF whose API is the same.
 *
 * HEAD is this working tree (uncommitted changes included) unless --head
 * names a commit, which then gets a worktree too (REF vs REF is the sanity
 * check). REF's node_modules: a symlink to this tree's when every package
 * REF's package-lock.json pins is installed here at the same version (the
 * usual case: only dev tools were added since), else `npm ci --ignore-scripts`
 * plus the native build of better-sqlite3 (--fresh-install forces that path).
 * The worktrees are removed at the end, on failure and on Ctrl-C too.
 *
 * Prints a Markdown report: per-round figures, both medians, HEAD/REF.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killProcessesUnder } from '../test/infra/skyshift.js';
import { flag, JSON_LINE_PREFIX, numberOption, stringOption } from './lib/args.js';
import { median } from './lib/http.js';
import { describeMachine } from './lib/machine.js';
import type { BacklogFigures } from './scheduler.js';

const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const BASE = stringOption('base');
const HEAD_REF = stringOption('head');
const ROUNDS = numberOption('rounds', 3);
/** 5,000 jobs on 50 clusters: one backlog round takes about half a minute here; bench:scheduler's full size is 10,000 on 100. */
const JOBS = numberOption('jobs', 5000);
const CLUSTERS = numberOption('clusters', 50);
const FRESH_INSTALL = flag('fresh-install');

const log = (msg: string) => console.error(`[bench:compare] ${msg}`);
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();

interface Side {
  label: string;
  root: string;
  description: string;
}

/** The API create row as bench/api.ts prints it with --json. */
interface CreateRow {
  perSec: number;
  cpuUs?: number;
  errors: number;
}

interface RoundFigures {
  backlog: BacklogFigures;
  creates: CreateRow;
}

// --- worktrees -----------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'skyshift-compare-'));
const worktrees: string[] = [];
let running: ChildProcess | undefined;

function describeCommit(hash: string): string {
  return git('log', '-1', '--format=%h %s', hash);
}

function addWorktree(ref: string, name: 'ref' | 'head'): Side {
  const hash = git('rev-parse', '--verify', `${ref}^{commit}`);
  const root = join(scratch, name);
  git('worktree', 'add', '--detach', '--quiet', root, hash);
  worktrees.push(root);
  provideNodeModules(root, hash);
  return { label: `${name.toUpperCase()} ${ref}`, root, description: describeCommit(hash) };
}

/** Versions by package path (`node_modules/x`) of a lockfile's `packages`, links left out. */
function lockedVersions(lockText: string): Map<string, string> {
  const lock = JSON.parse(lockText) as { packages?: Record<string, { version?: string; link?: boolean }> };
  const out = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path !== '' && !entry.link && entry.version) out.set(path, entry.version);
  }
  return out;
}

function provideNodeModules(root: string, hash: string): void {
  // This tree's lockfile, not node_modules/.package-lock.json: that one leaves out other platforms' optional packages.
  const wanted = lockedVersions(git('show', `${hash}:package-lock.json`));
  const have = existsSync(join(REPO, 'node_modules')) ? lockedVersions(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) : new Map<string, string>();
  const missing = [...wanted].filter(([path, version]) => have.get(path) !== version);
  if (!FRESH_INSTALL && missing.length === 0) {
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    log(`${root}: node_modules symlinked (all ${wanted.size} packages its lockfile pins are locked here at the same versions)`);
    return;
  }
  if (missing.length > 0)
    log(
      `${root}: ${missing.length} locked packages differ from this tree's, e.g. ${missing
        .slice(0, 3)
        .map(([p, v]) => `${p}@${v}`)
        .join(', ')}`,
    );
  const t0 = performance.now();
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  // The one native addon without a prebuilt napi package: fetch or compile its binary.
  execFileSync('npm', ['rebuild', 'better-sqlite3'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`${root}: npm ci --ignore-scripts + better-sqlite3 rebuild took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/** SIGKILLs the process groups of `pid`'s children: the `skyshift` daemons a probe started (each in its own group). */
function killChildGroups(pid: number): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) process.kill(-Number(entry), 'SIGKILL');
    } catch {
      /* gone meanwhile, or not a group leader */
    }
  }
}

async function cleanup(): Promise<void> {
  // A probe interrupted mid-run cannot stop its daemons itself: stop them here, then the probe.
  if (running?.pid !== undefined) {
    killChildGroups(running.pid);
    running.kill('SIGKILL');
  }
  // REF's `skyshift` processes run with their cwd in its worktree: none may outlive it.
  await killProcessesUnder(scratch);
  for (const root of worktrees.splice(0)) {
    try {
      git('worktree', 'remove', '--force', root);
    } catch (err) {
      log(`could not remove worktree ${root}: ${(err as Error).message}`);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  git('worktree', 'prune');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: removing the worktrees`);
    void cleanup().finally(() => process.exit(130));
  });
}

// --- one measurement -----------------------------------------------------------

/** Runs a bench script of this tree with --json and returns the object it printed. */
function probe<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, script), ...args, '--json'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group, so Ctrl-C reaches only this script, which then stops the probe's daemons before the probe.
      detached: true,
    });
    running = child;
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      running = undefined;
      const line = out.split('\n').find((l) => l.startsWith(JSON_LINE_PREFIX));
      if (code !== 0 || !line) return reject(new Error(`${script} ${args.join(' ')} exited with ${code}${line ? '' : ', no result line'}`));
      resolve(JSON.parse(line.slice(JSON_LINE_PREFIX.length)) as T);
    });
  });
}

const backlog = (side: Side) =>
  probe<BacklogFigures>('bench/scheduler.ts', ['--backlog-only', '--root', side.root, '--jobs', String(JOBS), '--clusters', String(CLUSTERS)]);
const creates = (side: Side) => probe<CreateRow>('bench/api.ts', ['--sqlite-create-only', '--root', side.root]);

// --- report --------------------------------------------------------------------

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function row(what: string, base: number[], head: number[], digits: number): string {
  const b = median(base);
  const h = median(head);
  const perRound = (xs: number[]) => xs.map((x) => fmt(x, digits)).join(', ');
  return `| ${what} | ${perRound(base)} | ${perRound(head)} | ${fmt(b, digits)} | ${fmt(h, digits)} | **${fmt(h / b, 3)}** |`;
}

/** Zero over-commit: no cluster holds more than its capacity, the sims found a node for every placed replica, every job placed. */
const overcommitFree = (r: RoundFigures) => r.backlog.clusterOvercommit === 0 && r.backlog.simPendingReplicas === 0 && r.backlog.neverPlaced === 0;

function report(base: Side, head: Side, results: Map<Side, RoundFigures[]>, machineBefore: string): string {
  const of = (side: Side) => results.get(side)!;
  const pick = (side: Side, f: (r: RoundFigures) => number) => of(side).map(f);
  const perRun = (f: (r: RoundFigures) => number) => `REF ${of(base).map(f).join(', ')}; HEAD ${of(head).map(f).join(', ')}`;
  return [
    `### bench:compare — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Machine: ${machineBefore} (load avg at the end: ${describeMachine().split('load avg ')[1]})`,
    '',
    `${base.label}: ${base.description}. ${head.label}: ${head.description}.`,
    `${ROUNDS} interleaved rounds (REF then HEAD for each measure); every run starts fresh processes. Backlog: ${JOBS} jobs created while no cluster exists, then ${CLUSTERS} sim clusters × 100 nodes; placement timed from the first cluster create to the last job placed. Creates: bench:api's SQLite row, 10,000 creates at concurrency 50 after 3,000 warm-up creates, auth on. Both sides run under HEAD's bench harness; only the \`skyshift\` processes differ.`,
    '',
    '| measure | REF per round | HEAD per round | REF median | HEAD median | HEAD/REF |',
    '|---|---|---|---:|---:|---:|',
    row(
      'pending backlog placed, jobs/s (higher is better)',
      pick(base, (r) => r.backlog.jobsPerSec),
      pick(head, (r) => r.backlog.jobsPerSec),
      0,
    ),
    row(
      '`skyshift up` CPU per placed job, ms (lower is better)',
      pick(base, (r) => r.backlog.cpuMsPerJob),
      pick(head, (r) => r.backlog.cpuMsPerJob),
      3,
    ),
    row(
      'SQLite creates/s at c=50 (higher is better)',
      pick(base, (r) => r.creates.perSec),
      pick(head, (r) => r.creates.perSec),
      0,
    ),
    row(
      'server CPU per create, µs (lower is better)',
      pick(base, (r) => r.creates.cpuUs ?? NaN),
      pick(head, (r) => r.creates.cpuUs ?? NaN),
      0,
    ),
    '',
    `Over-commit in all ${2 * ROUNDS} backlog runs: ${[...results.values()].flat().every(overcommitFree) ? '**zero**' : '**found**'} — per run:`,
    '',
    `- clusters given more than their capacity: ${perRun((r) => r.backlog.clusterOvercommit)};`,
    `- replicas the sim clusters found no node for (still PENDING when job sync settled): ${perRun((r) => r.backlog.simPendingReplicas)};`,
    `- jobs never placed: ${perRun((r) => r.backlog.neverPlaced)}.`,
    `- For information, clusters whose placed replicas a first-fit-decreasing packing could not fit into their nodes (a heuristic, not proof of over-commit; the sims' own packing is the row above): ${perRun((r) => r.backlog.nodeOvercommit)}.`,
    `- Create errors: ${perRun((r) => r.creates.errors)}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!BASE) throw new Error('usage: npm run bench:compare -- --base REF [--head REF] [--rounds N] [--jobs N] [--clusters N] [--fresh-install]');
  const machine = describeMachine();
  const base = addWorktree(BASE, 'ref');
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const head: Side = HEAD_REF
    ? addWorktree(HEAD_REF, 'head')
    : { label: 'HEAD (working tree)', root: REPO, description: `${describeCommit('HEAD')}${dirty ? ', plus uncommitted changes' : ''}` };
  const results = new Map<Side, RoundFigures[]>([
    [base, []],
    [head, []],
  ]);
  for (let round = 1; round <= ROUNDS; round++) {
    const backlogs = new Map<Side, BacklogFigures>();
    for (const side of [base, head]) {
      log(`round ${round}/${ROUNDS}: backlog, ${side.label}`);
      backlogs.set(side, await backlog(side));
    }
    for (const side of [base, head]) {
      log(`round ${round}/${ROUNDS}: creates, ${side.label}`);
      const c = await creates(side);
      const b = backlogs.get(side)!;
      results.get(side)!.push({ backlog: b, creates: c });
      log(`round ${round} ${side.label}: ${fmt(b.jobsPerSec)} jobs/s placed, ${fmt(c.perSec)} creates/s`);
    }
  }
  console.log(report(base, head, results, machine));
  if (![...results.values()].flat().every(overcommitFree)) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
