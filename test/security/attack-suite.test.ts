/**
 * The attack suite of issue 8 (DESIGN section 17): a real `skyshift up` with
 * SQLite and auth on, attacked as a hostile tenant (and an anonymous client)
 * would, one class at a time:
 *
 *   1. a tenant reads SkyShift's secrets through a job
 *   2. size bombs in a job (replicas, labels, annotations, env, resources)
 *   3. path spellings on every protected route (role escalation, user deletion, namespace escape)
 *   4. amplification bodies (YAML key counts and alias bombs, JSON-patch copy chains, nesting)
 *   5. the login throttle under concurrency (and JSON-only /login, /register)
 *   6. a second process on the same data dir
 *
 * Every class asserts its outcome, zero 5xx, and that /healthz answers within
 * 1 s afterwards. While a class runs a second connection samples /healthz
 * every 20 ms, and the server's own `nodejs_eventloop_lag_max_seconds` is read
 * before and after: those are the figures in docs/security.md ("Attack
 * suite"), written to $SKYSHIFT_SECURITY_RESULTS (default
 * $TMPDIR/skyshift-security-results.json) and printed at the end.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { startDaemon } from '../infra/process.js';
import { freePort } from '../infra/ports.js';
import { killProcessesUnder, REPO_ROOT, SKYSHIFT_BIN, startSkyShift, type SkyShiftInstance } from '../infra/skyshift.js';
import { eventLoopMaxMs, healthSampler, http, Recorder, type Req, type Res } from './support.js';

const CANARY = `canary-${process.pid}-${Date.now().toString(36)}`;
const NS = 'team-a';
const OTHER_NS = 'team-b';
const ROOT = process.getuid?.() === 0;

let sky: SkyShiftInstance;
let dir: string;
let dataDir: string;
const tokens: Record<string, string> = {};
const recorder = new Recorder();

/** A request as `who` (a key of `tokens`, or undefined for anonymous). */
function as(who: string | undefined, r: Omit<Req, 'token'>): Promise<Res> {
  return http(sky.url, { ...r, ...(who ? { token: tokens[who] } : {}) });
}

function json(res: Res): any {
  try {
    return JSON.parse(res.body);
  } catch {
    return undefined;
  }
}

function short(res: Res): string {
  return `${res.status}${res.error ? ` [${res.error}]` : ''} ${res.body.replace(/\s+/g, ' ').slice(0, 160)}`;
}

const is2xx = (s: number) => s >= 200 && s < 300;
const is4xx = (s: number) => s >= 400 && s < 500;

interface ClassContext {
  /** An attack request: counted, and any 5xx (or no answer) is a failure. */
  attack(who: string | undefined, r: Omit<Req, 'token'>, label: string): Promise<Res>;
  fail(message: string): void;
  check(ok: boolean, message: string): void;
  /** Another kind of attack (a process started): counted. */
  start<T>(fn: () => T): Promise<T>;
  /**
   * Start measuring (the /healthz sampler, the event-loop reading). The first
   * attack does it; a class calls it earlier only after building its payloads,
   * so the test process's own work does not count as the server's stall.
   */
  begin(): Promise<void>;
  /** A stall measured inside the class (per request); the class's figure is the larger one. */
  stall(ms: number): void;
  /** Strings the payloads of `reqs` (JSON) so no serialising happens while measuring. */
  serialise(reqs: Omit<Req, 'token'>[]): void;
}

/**
 * Run one attack class with the health sampler and the event-loop reading
 * around it; record its figures; fail the test with every problem found.
 */
async function attackClass(t: TestContext, name: string, body: (c: ClassContext) => Promise<string>): Promise<void> {
  let sampler: ReturnType<typeof healthSampler> | undefined;
  let innerStall = 0;
  const begin = async () => {
    if (sampler) return;
    await eventLoopMaxMs(sky.url, sky.token); // resets the server's lag histogram
    sampler = healthSampler(sky.url, 20);
  };
  const failures: string[] = [];
  let requests = 0;
  let fiveXX = 0;
  const c: ClassContext = {
    begin,
    stall: (ms) => void (innerStall = Math.max(innerStall, ms)),
    serialise(reqs) {
      for (const r of reqs) if (r.body !== undefined && typeof r.body !== 'string') r.body = JSON.stringify(r.body);
    },
    async attack(who, r, label) {
      await begin();
      requests++;
      const res = await as(who, { timeoutMs: 30_000, ...r });
      if (res.status >= 500 || res.status === 0) {
        fiveXX++;
        failures.push(`${label}: ${r.method} ${r.path.slice(0, 80)} -> ${short(res)}`);
      }
      return res;
    },
    fail: (m) => void failures.push(m),
    async start(fn) {
      await begin();
      requests++;
      return fn();
    },
    check: (ok, m) => {
      if (!ok) failures.push(m);
    },
  };
  let outcome = '';
  try {
    outcome = await body(c);
  } catch (err) {
    failures.push(`aborted: ${(err as Error).stack ?? String(err)}`);
    outcome = 'aborted';
  }
  await begin();
  const health = await sampler!.stop();
  const classLag = await eventLoopMaxMs(sky.url, sky.token);
  const lag = classLag === undefined && innerStall === 0 ? undefined : Math.max(classLag ?? 0, innerStall);
  const afterwards = await http(sky.url, { method: 'GET', path: '/healthz', timeoutMs: 5_000 });
  if (afterwards.status !== 200 || afterwards.ms >= 1000)
    failures.push(`/healthz afterwards: ${short(afterwards)} in ${Math.round(afterwards.ms)} ms (must be 200 within 1 s)`);
  for (const f of health.failures.slice(0, 3)) failures.push(`/healthz during the attack: ${f}`);
  const alive = sky.daemon.child.exitCode === null && sky.daemon.child.signalCode === null;
  if (!alive) failures.push(`skyshift up died (${sky.daemon.child.exitCode ?? sky.daemon.child.signalCode}); log:\n${sky.logTail(20)}`);
  recorder.add(
    {
      attackClass: name,
      requests,
      outcome,
      fiveXX,
      eventLoopMaxMs: lag,
      healthMaxMs: health.maxMs,
      healthP99Ms: health.p99Ms,
      healthSamples: health.samples,
      healthAfterMs: afterwards.ms,
      passed: failures.length === 0,
      failures: failures.map((f) => f.slice(0, 400)),
    },
    health.all,
  );
  t.diagnostic(
    `${name}: ${requests} requests, ${fiveXX} 5xx, event-loop max ${lag === undefined ? 'n/a' : Math.round(lag)} ms, /healthz max ${Math.round(health.maxMs)} ms p99 ${Math.round(health.p99Ms)} ms (${health.samples} samples), after ${Math.round(afterwards.ms)} ms; ${outcome}`,
  );
  if (!alive) await sky.restart().catch(() => {}); // let the later classes run
  assert.deepEqual(failures, [], `${name}: ${failures.length} problem(s)`);
}

// --- fixtures ------------------------------------------------------------------

async function admin(r: Omit<Req, 'token'>): Promise<Res> {
  return as('admin', r);
}

async function mustAdmin(r: Omit<Req, 'token'>, want: number[] = [200, 201]): Promise<any> {
  const res = await admin(r);
  assert.ok(want.includes(res.status), `admin ${r.method} ${r.path}: ${short(res)}`);
  return json(res);
}

async function invite(roles: string[]): Promise<string> {
  return (await mustAdmin({ method: 'POST', path: '/invites', body: { roles } })).token as string;
}

async function register(username: string, roles: string[], password = `pw-${username}-123456`): Promise<void> {
  const res = await http(sky.url, { method: 'POST', path: '/register', body: { username, password, invite: await invite(roles) } });
  assert.equal(res.status, 201, `register ${username}: ${short(res)}`);
}

async function login(username: string, password = `pw-${username}-123456`, from?: string): Promise<string> {
  const res = await http(sky.url, { method: 'POST', path: '/login', body: { username, password }, ...(from ? { from } : {}) });
  assert.equal(res.status, 200, `login ${username}: ${short(res)}`);
  return json(res).token as string;
}

function jobBody(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'Job', metadata: { name, ...metadata }, spec: { run: 'true', replicas: 1, resources: { cpus: 1, memory: 64 }, ...spec } };
}

async function waitJob(ns: string, name: string, phases: string[], timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = json(await admin({ method: 'GET', path: `/${ns}/jobs/${name}` }));
    if (phases.includes(last?.status?.phase)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`job ${ns}/${name} not ${phases.join('|')} after ${timeoutMs} ms: ${JSON.stringify(last?.status)}`);
}

/** Whole job log as `who` (the logs route streams; without follow it ends). */
async function logsOf(who: string, ns: string, name: string): Promise<Res> {
  return as(who, { method: 'GET', path: `/${ns}/jobs/${name}/logs`, keep: 64 * 1024 * 1024, timeoutMs: 20_000 });
}

// --- the suite -------------------------------------------------------------------

describe('attack suite: a tenant stays a tenant, and no request takes SkyShift down', { timeout: 240_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyshift-attack-'));
    dataDir = join(dir, '.skyshift');
    // The default layout (store inside the data dir), so the data dir's protection covers the store too.
    sky = await startSkyShift({
      dir,
      args: ['--store', `sqlite:${join(dataDir, 'skyshift.db')}`, '--heartbeat-seconds', '1', '--local-cpus', '2', '--local-memory', '4Gi'],
      // A variable of SkyShift's own environment that no replica may ever see.
      env: { SKYSHIFT_ATTACK_CANARY: CANARY },
      readyTimeoutMs: 90_000,
    });
    assert.ok(sky.token, 'skyshift up wrote an admin token');
    tokens.admin = sky.token;
    for (const ns of [NS, OTHER_NS]) await mustAdmin({ method: 'POST', path: '/namespaces', body: { kind: 'Namespace', metadata: { name: ns } } });
    await mustAdmin({
      method: 'POST',
      path: '/roles',
      body: { kind: 'Role', metadata: { name: 'tenant-role' }, spec: { namespaces: [NS], rules: [{ resources: ['jobs'], actions: ['*'] }] } },
    });
    // Holds every action on roles (so the role guard, not RBAC, is what stops escalation) and nothing else.
    await mustAdmin({
      method: 'POST',
      path: '/roles',
      body: { kind: 'Role', metadata: { name: 'rolewriter-role' }, spec: { namespaces: ['*'], rules: [{ resources: ['roles'], actions: ['*'] }] } },
    });
    await register('tenant', ['tenant-role']);
    await register('rolewriter', ['rolewriter-role']);
    await register('guess', []);
    tokens.tenant = await login('tenant');
    tokens.rolewriter = await login('rolewriter');
    // The local cluster `up` registered: wait until it can run jobs.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const clusters = json(await admin({ method: 'GET', path: '/clusters' }));
      if (clusters?.items?.some((c: any) => c.status?.phase === 'READY')) break;
      if (Date.now() > deadline) throw new Error(`no READY cluster: ${JSON.stringify(clusters?.items?.map((c: any) => c.status))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (recorder.rows.length > 0) {
      const file = recorder.write();
      console.log(`\nAttack suite figures (${file}):\n${recorder.table()}\n`);
    }
    await sky?.cleanup();
    if (dir) {
      await killProcessesUnder(dir);
      if (!process.env['SKYSHIFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
    }
  });

  test("1. a tenant cannot read SkyShift's secrets through a job", { timeout: 90_000 }, async (t) => {
    await attackClass(t, '1. tenant reads secrets through a job', async (c) => {
      const d = dir;
      const targets = [
        '"$HOME/.skyshift/auth/signing.key"',
        '"$HOME/.skyshift/controllers.token"',
        '"$HOME/.skyshift/admin-password"',
        '"$HOME/.skyconf/config.yaml"',
        `${d}/.skyshift/auth/signing.key`,
        `${d}/.skyshift/controllers.token`,
        `${d}/.skyshift/admin-password`,
        `${d}/.skyconf/config.yaml`,
        `${d}/.skyshift/skyshift.db`,
        `${d}/.skyshift/skyshift.db-wal`,
        `${d}/db`,
      ];
      const run = [
        'echo "PWD=$(pwd)"',
        'echo "UID=$(id -u)"',
        'id',
        'echo ENV-BEGIN; env; echo ENV-END',
        `for f in ${targets.join(' ')}; do echo "== $f"; cat "$f" 2>&1 | head -c 2000000; echo; done`,
        `echo "== environ"; tr '\\0' '\\n' < /proc/${sky.daemon.pid}/environ 2>&1`,
        `ls -la ${d} ${d}/.skyshift ${d}/.skyshift/auth 2>&1`,
        'echo DONE',
      ].join('\n');
      const created = await c.attack('tenant', { method: 'POST', path: `/${NS}/jobs`, body: jobBody('steal', { run }) }, 'create the job');
      c.check(created.status === 201, `tenant creates its job: ${short(created)}`);
      const job = await waitJob(NS, 'steal', ['COMPLETED', 'FAILED'], 45_000);
      const logs = await c.attack('tenant', { method: 'GET', path: `/${NS}/jobs/steal/logs`, keep: 64 * 1024 * 1024, timeoutMs: 20_000 }, 'read its logs');
      c.check(logs.status === 200, `tenant reads its job's logs: ${short(logs)}`);
      const out = logs.body;
      c.check(out.includes('DONE'), `the job ran to its end (phase ${job.status?.phase}); log starts: ${out.slice(0, 300)}`);
      const secrets: [string, string][] = [
        ['signing.key', readFileSync(join(dataDir, 'auth', 'signing.key'), 'utf8').trim()],
        ['controllers.token', readFileSync(join(dataDir, 'controllers.token'), 'utf8').trim()],
        ['admin-password', readFileSync(join(dataDir, 'admin-password'), 'utf8').trim()],
        ['admin token', tokens.admin!],
        ['a password hash', '$argon2'],
        ["SkyShift's environment (canary)", CANARY],
      ];
      const leaked = secrets.filter(([, v]) => v.length >= 7 && out.includes(v)).map(([k]) => k);
      c.check(leaked.length === 0, `the job's log shows ${leaked.join(', ')}`);
      const env = (/ENV-BEGIN\n([\s\S]*?)\nENV-END/.exec(out)?.[1] ?? '').split('\n');
      const vars = new Map(env.filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      c.check(vars.size > 0, 'the job printed its environment');
      // The job's own identity (SKYSHIFT_JOB, SKYSHIFT_REPLICA ...) is fine; SkyShift's process environment is not.
      const JOB_IDENTITY = /^SKYSHIFT_(JOB|JOB_UID|JOB_NAME|NAMESPACE|REPLICA|REPLICAS|RANK|CLUSTER)$/;
      const SAFE = new Set(['PATH', 'LANG', 'LC_ALL', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'SHLVL', '_', 'TERM', 'TZ']);
      const skyVars = [...vars]
        .filter(
          ([k, v]) =>
            (/^SKYSHIFT/i.test(k) && !JOB_IDENTITY.test(k)) || /^(NODE_|npm_)/i.test(k) || (!SAFE.has(k) && !k.startsWith('SKYSHIFT') && process.env[k] === v),
        )
        .map(([k]) => k);
      c.check(skyVars.length === 0, `the job's environment carries SkyShift's own variables: ${skyVars.join(', ')}`);
      const pwd = /^PWD=(.*)$/m.exec(out)?.[1];
      c.check(vars.get('HOME') !== dir, `the job's HOME is SkyShift's HOME (${dir})`);
      c.check(pwd !== undefined && vars.get('HOME') === pwd, `the job's HOME (${vars.get('HOME')}) is its work dir (${pwd})`);
      const uid = /^UID=(\d+)$/m.exec(out)?.[1];
      if (ROOT) c.check(uid !== undefined && uid !== '0', `SkyShift runs as root and the job ran as uid ${uid} (must be an unprivileged user)`);
      // Modes, read directly (the test runs as SkyShift's own user).
      const mode = (p: string) => statSync(p).mode & 0o777;
      c.check(mode(dataDir) === 0o700, `data dir ${dataDir} is ${mode(dataDir).toString(8)}, want 700`);
      for (const f of ['skyshift.db', 'skyshift.db-wal', 'skyshift.db-shm', 'admin-password', 'controllers.token', 'auth/signing.key']) {
        const p = join(dataDir, f);
        if (!existsSync(p)) {
          if (f === 'skyshift.db' || !f.startsWith('skyshift.db')) c.fail(`${p} does not exist`);
          continue;
        }
        c.check(mode(p) === 0o600, `${f} is ${mode(p).toString(8)}, want 600`);
      }
      const conf = join(dir, '.skyconf', 'config.yaml');
      c.check(mode(conf) === 0o600, `~/.skyconf/config.yaml is ${mode(conf).toString(8)}, want 600`);
      if (pwd && existsSync(pwd)) {
        c.check((mode(pwd) & 0o006) === 0, `the job's work dir ${pwd} is ${mode(pwd).toString(8)}: others may read it`);
        for (const f of readdirSync(pwd)) {
          const m = mode(join(pwd, f));
          c.check((m & 0o006) === 0, `${f} in the job's work dir is ${m.toString(8)}: others may read it`);
        }
        // The replica's log sits beside (or in) its work dir.
        const logs = [join(pwd, 'output.log'), join(dirname(pwd), 'output.log')].filter((p) => existsSync(p));
        c.check(logs.length > 0, `no output.log next to the job's work dir ${pwd}`);
        for (const l of logs) c.check((mode(l) & 0o006) === 0, `the job's log ${l} is ${mode(l).toString(8)}: others may read it`);
      } else c.fail(`the job's work dir ${pwd} was not found`);
      return `log ${logs.bytes} B: ${leaked.length === 0 ? 'no secret' : `LEAKED ${leaked.join(', ')}`}; uid ${uid}; HOME ${vars.get('HOME') === pwd ? '= work dir' : vars.get('HOME')}; ${skyVars.length} SkyShift variables; data dir ${mode(dataDir).toString(8)}, store ${existsSync(join(dataDir, 'skyshift.db')) ? mode(join(dataDir, 'skyshift.db')).toString(8) : '-'}`;
    });
  });

  test('2. size bombs are refused with 422 naming the field', { timeout: 90_000 }, async (t) => {
    await attackClass(t, '2. size bombs', async (c) => {
      const base = `/${NS}/jobs`;
      const nowhere = { filters: [{ matchLabels: { 'attack-suite': 'nowhere' } }] };
      const victim = await as('tenant', { method: 'POST', path: base, body: jobBody('victim', { placement: nowhere }) });
      c.check(victim.status === 201, `victim job: ${short(victim)}`);
      const raw = (spec: string) => `{"kind":"Job","metadata":{"name":"bomb"},"spec":{"run":"true","replicas":1,${spec}}}`;
      const labels: Record<string, string> = {};
      for (let i = 0; i < 8000; i++) labels[`k${i}`] = 'v'.repeat(60);
      const envMany: Record<string, string> = {};
      for (let i = 0; i < 20_000; i++) envMany[`E${i}`] = 'x';
      const cases: { label: string; field: RegExp; req: Omit<Req, 'token'>; big?: boolean }[] = [
        { label: 'replicas 1e308', field: /replicas/, req: { method: 'POST', path: base, body: raw('"replicas":1e308') } },
        { label: 'replicas 1e8', field: /replicas/, req: { method: 'POST', path: base, body: jobBody('bomb', { replicas: 1e8 }) } },
        { label: 'replicas 10001', field: /replicas/, req: { method: 'POST', path: base, body: jobBody('bomb', { replicas: 10_001 }) } },
        {
          label: 'replicas 1e308 (YAML)',
          field: /replicas/,
          req: {
            method: 'POST',
            path: base,
            contentType: 'application/yaml',
            body: 'kind: Job\nmetadata: {name: bomb}\nspec: {run: "true", replicas: 1e308}\n',
          },
        },
        { label: 'labels ~600 KB', field: /labels/, req: { method: 'POST', path: base, body: jobBody('bomb', {}, { labels }) } },
        {
          label: 'annotation of 1 MB',
          field: /annotations/,
          big: true,
          req: { method: 'POST', path: base, body: jobBody('bomb', {}, { annotations: { a: 'x'.repeat(1_000_000) } }) },
        },
        { label: 'env with NUL', field: /envs?/, req: { method: 'POST', path: base, body: jobBody('bomb', { envs: { A: 'a\u0000b' } }) } },
        { label: 'env value 129 KiB', field: /envs?/, req: { method: 'POST', path: base, body: jobBody('bomb', { envs: { A: 'x'.repeat(129 * 1024) } }) } },
        { label: 'env 20,000 variables', field: /envs?/, req: { method: 'POST', path: base, body: jobBody('bomb', { envs: envMany }) } },
        { label: 'resources __proto__', field: /resources|__proto__/, req: { method: 'POST', path: base, body: raw('"resources":{"__proto__":1}') } },
        { label: 'resources constructor', field: /resources|constructor/, req: { method: 'POST', path: base, body: raw('"resources":{"constructor":1}') } },
        { label: 'resources toString', field: /resources|toString/, req: { method: 'POST', path: base, body: raw('"resources":{"toString":1}') } },
        { label: 'resources cpus 1e999 (Infinity)', field: /resources|cpus/, req: { method: 'POST', path: base, body: raw('"resources":{"cpus":1e999}') } },
        {
          label: 'resources cpus .inf (YAML)',
          field: /resources|cpus/,
          req: {
            method: 'POST',
            path: base,
            contentType: 'application/yaml',
            body: 'kind: Job\nmetadata: {name: bomb}\nspec: {run: "true", resources: {cpus: .inf}}\n',
          },
        },
        {
          label: 'resources gpus .nan (YAML)',
          field: /resources|gpus/,
          req: {
            method: 'POST',
            path: base,
            contentType: 'application/yaml',
            body: 'kind: Job\nmetadata: {name: bomb}\nspec: {run: "true", resources: {gpus: .nan}}\n',
          },
        },
        {
          label: 'merge patch replicas 1e308',
          field: /replicas/,
          req: { method: 'PATCH', path: `${base}/victim`, contentType: 'application/merge-patch+json', body: '{"spec":{"replicas":1e308}}' },
        },
        {
          label: 'JSON patch replicas 1e8',
          field: /replicas/,
          req: {
            method: 'PATCH',
            path: `${base}/victim`,
            contentType: 'application/json-patch+json',
            body: [{ op: 'replace', path: '/spec/replicas', value: 1e8 }],
          },
        },
        {
          label: 'merge patch env NUL',
          field: /envs?/,
          req: { method: 'PATCH', path: `${base}/victim`, contentType: 'application/merge-patch+json', body: { spec: { envs: { B: 'x\u0000' } } } },
        },
      ];
      const current = json(await as('tenant', { method: 'GET', path: `${base}/victim` }));
      if (current)
        cases.push({
          label: 'PUT replicas 10001',
          field: /replicas/,
          req: { method: 'PUT', path: `${base}/victim`, body: { ...current, spec: { ...current.spec, replicas: 10_001 } } },
        });
      c.serialise(cases.map((k) => k.req));
      await c.begin();
      const results: string[] = [];
      for (const k of cases) {
        const res = await c.attack('tenant', k.req, k.label);
        const want = k.big ? [422, 413] : [422];
        const named = k.field.test(res.body);
        results.push(`${k.label}: ${res.status}`);
        c.check(want.includes(res.status) && named, `${k.label}: want ${want.join('/')} naming ${k.field}, got ${short(res)}`);
      }
      // Within the limits: the largest allowed job is accepted (and never placed here).
      const max = await c.attack(
        'tenant',
        { method: 'POST', path: base, body: jobBody('max-replicas', { replicas: 10_000, placement: nowhere }) },
        'replicas 10000',
      );
      c.check(max.status === 201, `replicas 10,000 (the default maximum) is accepted: ${short(max)}`);
      await new Promise((r) => setTimeout(r, 1500)); // a scheduler pass over it
      await as('tenant', { method: 'DELETE', path: `${base}/max-replicas` });
      // Nothing over the limits was stored.
      const jobs = json(await admin({ method: 'GET', path: '/jobs' }))?.items ?? [];
      const stored = jobs.filter((j: any) => !(Number.isInteger(j.spec?.replicas) && j.spec.replicas <= 10_000) || j.metadata?.name === 'bomb');
      c.check(stored.length === 0, `stored over the limits: ${stored.map((j: any) => `${j.metadata.name} replicas ${j.spec?.replicas}`).join(', ')}`);
      const v = json(await admin({ method: 'GET', path: `${base}/victim` }));
      c.check(v?.spec?.replicas === 1, `victim keeps replicas 1: ${JSON.stringify(v?.spec?.replicas)}`);
      return `${cases.length} bombs: ${results.filter((r) => /: 4(22|13)$/.test(r)).length} refused 422/413; replicas 10,000 accepted (${max.status})`;
    });
  });

  test('3. no spelling of a path escalates a tenant or skips user cleanup', { timeout: 120_000 }, async (t) => {
    await attackClass(t, '3. path spellings on protected routes', async (c) => {
      let tried = 0;
      let refused = 0;
      let through = 0;
      const noTwoXX = async (who: string | undefined, r: Omit<Req, 'token'>, label: string) => {
        const res = await c.attack(who, r, label);
        tried++;
        if (is2xx(res.status)) {
          through++;
          c.fail(`${label}: ${who} ${r.method} ${r.path} went through: ${short(res)}`);
        } else refused++;
        return res;
      };
      const escalated = (role: any, user: string) => role?.spec?.users?.includes(user) && role?.spec?.rules?.some((x: any) => x.resources?.includes('*'));
      const escalation: any = { namespaces: ['*'], users: ['rolewriter', 'tenant'], rules: [{ resources: ['*'], actions: ['*'] }] };

      // Role creation, as the role writer (holds * on roles) and as the tenant (no role rights).
      const collection = [
        '/roles',
        '/roles/',
        '/r%6Fles',
        '/%72oles',
        '/%72%6f%6c%65%73',
        '//roles',
        '/ROLES',
        '/Roles',
        '/./roles',
        '/roles/.',
        '/x/../roles',
        '/roles?',
        '/roles?x=1',
        '/roles%2F',
        '/roles;',
        '/roles%20',
        '/%2Froles',
      ];
      let n = 0;
      for (const who of ['rolewriter', 'tenant']) {
        for (const p of collection) {
          n++;
          const body = { kind: 'Role', metadata: { name: `esc-${n}` }, spec: escalation };
          await noTwoXX(who, { method: 'POST', path: p, body }, `POST role ${p}`);
          await noTwoXX(
            who,
            {
              method: 'POST',
              path: p,
              body: `kind: Role\nmetadata: {name: esc-y${n}}\nspec: {namespaces: ['*'], users: [rolewriter, tenant], rules: [{resources: ['*'], actions: ['*']}]}\n`,
              contentType: 'application/yaml',
            },
            `POST role (YAML) ${p}`,
          );
        }
      }
      // Replacing, patching and deleting admin-role.
      const object = [
        '/roles/admin-role',
        '/roles/admin-role/',
        '/roles//admin-role',
        '//roles/admin-role',
        '/r%6Fles/admin-role',
        '/roles/admin%2Drole',
        '/roles/%61dmin-role',
        '/ROLES/admin-role',
        '/roles/ADMIN-ROLE',
        '/./roles/admin-role',
        '/roles/./admin-role',
        '/roles/x/../admin-role',
        '/roles/admin-role?',
        '/roles/admin-role/.',
        '/roles%2Fadmin-role',
        '/roles/admin-role%2F',
        '/roles/admin-role;x',
      ];
      for (const who of ['rolewriter', 'tenant']) {
        for (const p of object) {
          const cur = json(await admin({ method: 'GET', path: '/roles/admin-role' }));
          await noTwoXX(who, { method: 'PUT', path: p, body: { ...cur, spec: { ...cur.spec, users: [...cur.spec.users, who] } } }, `PUT role ${p}`);
          await noTwoXX(
            who,
            { method: 'PATCH', path: p, contentType: 'application/merge-patch+json', body: { spec: { users: ['admin', who] } } },
            `merge-PATCH role ${p}`,
          );
          await noTwoXX(
            who,
            { method: 'PATCH', path: p, contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/spec/users/-', value: who }] },
            `json-PATCH role ${p}`,
          );
          if (who === 'tenant') await noTwoXX(who, { method: 'DELETE', path: p }, `DELETE role ${p}`);
        }
        // Its own harmless role, widened through a spelling.
      }
      const own = await as('rolewriter', {
        method: 'POST',
        path: '/roles',
        body: {
          kind: 'Role',
          metadata: { name: 'own-role' },
          spec: { namespaces: ['*'], users: ['rolewriter'], rules: [{ resources: ['roles'], actions: ['get'] }] },
        },
      });
      c.check(own.status === 201, `the role writer may create a role within its rights: ${short(own)}`);
      for (const p of ['/roles/own-role/', '/r%6Fles/own-role', '//roles/own-role', '/ROLES/own-role', '/roles/./own-role']) {
        const cur = json(await admin({ method: 'GET', path: '/roles/own-role' }));
        await noTwoXX(
          'rolewriter',
          { method: 'PUT', path: p, body: { ...cur, spec: { ...cur.spec, rules: [{ resources: ['*'], actions: ['*'] }] } } },
          `widen own role PUT ${p}`,
        );
        await noTwoXX(
          'rolewriter',
          { method: 'PATCH', path: p, contentType: 'application/merge-patch+json', body: { spec: { rules: [{ resources: ['*'], actions: ['*'] }] } } },
          `widen own role PATCH ${p}`,
        );
      }

      // Deleting a role that grants more than the writer holds.
      for (const p of [
        '/roles/big-role',
        '/roles/big-role/',
        '//roles/big-role',
        '/r%6Fles/big-role',
        '/ROLES/big-role',
        '/roles/./big-role',
        '/roles/%62ig-role',
      ]) {
        if ((await admin({ method: 'GET', path: '/roles/big-role' })).status === 404) {
          await mustAdmin({
            method: 'POST',
            path: '/roles',
            body: {
              kind: 'Role',
              metadata: { name: 'big-role' },
              spec: { namespaces: ['*'], users: ['admin'], rules: [{ resources: ['*'], actions: ['*'] }] },
            },
          });
        }
        await noTwoXX('rolewriter', { method: 'DELETE', path: p }, `DELETE a bigger role ${p}`);
      }
      // The tenant outside its namespace, on global kinds, on status, on accounts and metrics.
      const job = await as('tenant', {
        method: 'POST',
        path: `/${NS}/jobs`,
        body: jobBody('spelled', { placement: { filters: [{ matchLabels: { nowhere: 'x' } }] } }),
      });
      c.check(job.status === 201, `tenant job: ${short(job)}`);
      const foreign = [
        '/team-b/jobs',
        '/team-b/jobs/',
        '//team-b/jobs',
        '/team-b//jobs',
        '/TEAM-B/jobs',
        '/team%2Db/jobs',
        `/${NS}/../team-b/jobs`,
        `/${NS}/%2e%2e/team-b/jobs`,
        `/${NS}%2F..%2Fteam-b/jobs`,
        '/./team-b/jobs',
        '/team-b/%6Aobs',
        '/team-b/JOBS',
        '/jobs',
        '/jobs/',
        '//jobs',
        '/%6Aobs',
        '/JOBS',
        '/jobs?namespace=team-b',
      ];
      for (const p of foreign) {
        await noTwoXX('tenant', { method: 'GET', path: p }, `list ${p}`);
        await noTwoXX('tenant', { method: 'GET', path: `${p}${p.includes('?') ? '&' : '?'}watch=true`, headersOnly: true, timeoutMs: 5_000 }, `watch ${p}`);
        await noTwoXX('tenant', { method: 'POST', path: p, body: jobBody('escaped', {}, { namespace: OTHER_NS }) }, `create in ${p}`);
      }
      for (const p of [
        '/clusters',
        '/clusters/',
        '//clusters',
        '/CLUSTERS',
        '/%63lusters',
        '/namespaces/',
        '/%6Eamespaces',
        '/users/',
        '/USERS',
        '/leases/',
        '/links/',
      ]) {
        await noTwoXX('tenant', { method: 'GET', path: p }, `global list ${p}`);
        await noTwoXX(
          'tenant',
          { method: 'POST', path: p, body: { kind: 'Cluster', metadata: { name: 'escaped' }, spec: { manager: 'local' } } },
          `global create ${p}`,
        );
      }
      // Another namespace's job logs.
      const other = await admin({ method: 'POST', path: `/${OTHER_NS}/jobs`, body: jobBody('other-job', { run: 'echo other-namespace-output' }) });
      c.check(other.status === 201, `admin's job in ${OTHER_NS}: ${short(other)}`);
      await waitJob(OTHER_NS, 'other-job', ['COMPLETED', 'FAILED'], 30_000).catch((e: Error) => c.fail(e.message));
      for (const p of [
        '/team-b/jobs/other-job/logs',
        '/team-b/jobs/other-job/logs/',
        '//team-b/jobs/other-job/logs',
        '/team-b//jobs/other-job/logs',
        `/${NS}/../team-b/jobs/other-job/logs`,
        '/team-b/jobs/other-job/%6Cogs',
        '/team-b/jobs/other-job/LOGS',
        '/TEAM-B/jobs/other-job/logs',
        '/team-b/jobs/./other-job/logs',
        '/jobs/other-job/logs',
      ]) {
        const r = await noTwoXX('tenant', { method: 'GET', path: p, keep: 1024 * 1024 }, `logs ${p}`);
        c.check(!r.body.includes('other-namespace-output'), `${p}: the tenant read another namespace's log`);
      }
      // Revoking an invite the tenant does not own, and the anonymous account routes.
      const adminInvite = await invite([]);
      for (const p of [
        `/invites/${adminInvite}`,
        `/invites/${adminInvite}/`,
        `//invites/${adminInvite}`,
        `/INVITES/${adminInvite}`,
        `/%69nvites/${adminInvite}`,
        `/invites/./${adminInvite}`,
      ]) {
        await noTwoXX('tenant', { method: 'DELETE', path: p }, `revoke ${p.slice(0, 20)}`);
        await noTwoXX(undefined, { method: 'DELETE', path: p }, `anonymous revoke ${p.slice(0, 20)}`);
      }
      const invitee = await http(sky.url, {
        method: 'POST',
        path: '/register',
        body: { username: 'invitee', password: 'pw-invitee-123456', invite: adminInvite },
      });
      c.check(invitee.status === 201, `the admin's invite survived the tenant's spelled revocations: ${short(invitee)}`);
      for (const p of ['/whoami', '/whoami/', '//whoami', '/WHOAMI', '/%77hoami', '/users', '/users/', '/roles/', '/%6Aobs', '/team-a/jobs/']) {
        await noTwoXX(undefined, { method: 'GET', path: p }, `anonymous ${p}`);
      }
      const spelledJob = `/${NS}/jobs/spelled`;
      for (const s of ['/status', '/status/', '/%73tatus', '/STATUS', '//status', '/./status']) {
        const cur = json(await admin({ method: 'GET', path: spelledJob }));
        await noTwoXX(
          'tenant',
          { method: 'PUT', path: `${spelledJob}${s}`, body: { ...cur, status: { ...cur.status, phase: 'COMPLETED' } } },
          `status PUT ${s}`,
        );
        await noTwoXX(
          'tenant',
          { method: 'PATCH', path: `${spelledJob}${s}`, contentType: 'application/merge-patch+json', body: { status: { phase: 'COMPLETED' } } },
          `status PATCH ${s}`,
        );
      }
      const afterStatus = json(await admin({ method: 'GET', path: spelledJob }));
      c.check(afterStatus?.status?.phase !== 'COMPLETED', `the tenant forged its job's status: ${JSON.stringify(afterStatus?.status?.phase)}`);
      for (const p of ['/metrics', '/metrics/', '//metrics', '/METRICS', '/%6Detrics', '/./metrics', '/metrics?x=1']) {
        const res = await noTwoXX('tenant', { method: 'GET', path: p }, `metrics ${p}`);
        c.check(!/# (HELP|TYPE)|skyshift_/.test(res.body), `${p} as tenant leaks metrics in a ${res.status} body`);
        const anon = await noTwoXX(undefined, { method: 'GET', path: p }, `anonymous metrics ${p}`);
        c.check(!/# (HELP|TYPE)|skyshift_/.test(anon.body), `${p} anonymous leaks metrics in a ${anon.status} body: ${anon.body.slice(0, 120)}`);
      }
      for (const p of ['/invites', '/invites/', '//invites', '/INVITES', '/%69nvites']) {
        await noTwoXX('tenant', { method: 'POST', path: p, body: { roles: ['admin-role'] } }, `invite ${p}`);
        await noTwoXX('rolewriter', { method: 'POST', path: p, body: { roles: ['admin-role'] } }, `invite ${p}`);
      }
      for (const p of [
        '/users/admin',
        '/users/admin/',
        '//users/admin',
        '/USERS/admin',
        '/%75sers/admin',
        '/users/%61dmin',
        '/users/./admin',
        '/users/x/../admin',
      ]) {
        await noTwoXX('tenant', { method: 'DELETE', path: p }, `delete admin ${p}`);
        await noTwoXX('rolewriter', { method: 'DELETE', path: p }, `delete admin ${p}`);
      }

      // User deletion through any spelling leaves nothing behind for a later user of that name.
      let deletions = 0;
      let deletionTries = 0;
      for (const p of [
        '/users/victim/',
        '/users//victim',
        '//users/victim',
        '/%75sers/victim',
        '/users/%76ictim',
        '/USERS/victim',
        '/users/./victim',
        '/users/victim?',
        '/users/victim',
      ]) {
        await register('victim', ['reader-role', 'tenant-role']);
        const del = await c.attack('admin', { method: 'DELETE', path: p }, `DELETE ${p}`);
        deletionTries++;
        let exists = (await admin({ method: 'GET', path: '/users/victim' })).status === 200;
        if (!exists && !is2xx(del.status)) c.fail(`DELETE ${p} answered ${short(del)} but the user is gone`);
        if (exists) {
          c.check(!is2xx(del.status), `DELETE ${p} answered ${del.status} but the user still exists`);
          await mustAdmin({ method: 'DELETE', path: '/users/victim' });
          exists = false;
        } else deletions++;
        const roles = json(await admin({ method: 'GET', path: '/roles' }))?.items ?? [];
        const still = roles.filter((r: any) => r.spec?.users?.includes('victim')).map((r: any) => r.metadata.name);
        c.check(still.length === 0, `after DELETE ${p}: roles still name the deleted user: ${still.join(', ')}`);
        // A new user of the same name starts with nothing.
        await register('victim', []);
        const tok = await login('victim');
        const who = json(await http(sky.url, { method: 'GET', path: '/whoami', token: tok }));
        c.check(Array.isArray(who?.roles) && who.roles.length === 0, `a new 'victim' after DELETE ${p} holds ${JSON.stringify(who?.roles)}`);
        const peek = await http(sky.url, { method: 'GET', path: `/${NS}/jobs`, token: tok });
        c.check(peek.status === 403, `a new 'victim' after DELETE ${p} reads ${NS}'s jobs: ${short(peek)}`);
        await mustAdmin({ method: 'DELETE', path: '/users/victim' });
      }

      // Nothing changed for anyone.
      const roles = json(await admin({ method: 'GET', path: '/roles' }))?.items ?? [];
      const bad = roles
        .filter((r: any) => escalated(r, 'rolewriter') || escalated(r, 'tenant') || /^esc-/.test(r.metadata.name))
        .map((r: any) => r.metadata.name);
      c.check(bad.length === 0, `roles granting the attackers *: ${bad.join(', ')}`);
      const adminRole = roles.find((r: any) => r.metadata.name === 'admin-role');
      c.check(JSON.stringify(adminRole?.spec?.users) === JSON.stringify(['admin']), `admin-role users: ${JSON.stringify(adminRole?.spec?.users)}`);
      for (const [who, roleList] of [
        ['tenant', ['tenant-role']],
        ['rolewriter', ['rolewriter-role', 'own-role']],
      ] as const) {
        const me = json(await as(who, { method: 'GET', path: '/whoami' }));
        c.check(JSON.stringify([...(me?.roles ?? [])].sort()) === JSON.stringify([...roleList].sort()), `${who} now holds ${JSON.stringify(me?.roles)}`);
        for (const [m, p, b] of [
          ['GET', '/clusters'],
          ['GET', '/team-b/jobs'],
          ['POST', '/invites', { roles: ['admin-role'] }],
          ['GET', '/users'],
        ] as const) {
          const r = await as(who, { method: m, path: p, ...(b ? { body: b } : {}) });
          c.check(r.status === 403, `${who} ${m} ${p} after the attacks: ${short(r)} (want 403)`);
        }
      }
      const otherJobs = (json(await admin({ method: 'GET', path: `/${OTHER_NS}/jobs` }))?.items ?? []).filter((j: any) => j.metadata.name !== 'other-job');
      c.check(otherJobs.length === 0, `jobs appeared in ${OTHER_NS}: ${otherJobs.map((j: any) => j.metadata.name).join(', ')}`);
      const clusters = json(await admin({ method: 'GET', path: '/clusters/escaped' }));
      c.check(clusters?.kind !== 'Cluster', 'the tenant created a cluster');
      await as('tenant', { method: 'DELETE', path: spelledJob });
      return `${tried} forbidden route×spelling attempts: ${refused} refused, ${through} went through; ${deletionTries} user deletions by spelling: ${deletions} deleted with credentials and memberships, ${deletionTries - deletions} refused; attackers' rights unchanged`;
    });
  });

  test('4. amplification bodies are cut off before the work they ask for', { timeout: 120_000 }, async (t) => {
    await attackClass(t, '4. amplification bodies', async (c) => {
      const base = `/${NS}/jobs`;
      // 80,000 keys, ~789 KB: quadratic YAML parsing froze the server 80 s.
      let keys = '';
      for (let i = 0; i < 80_000; i++) keys += `  k${String(i).padStart(5, '0')}: v\n`;
      const yamlKeys = `username: guess\npassword: x\nextra:\n${keys}`;
      // ~1.4 MB of anchors aliased 100 times each: ~140 MB once expanded.
      let anchors = 'kind: Job\nmetadata:\n  name: alias-bomb\n  labels:\n';
      let aliases = '  annotations:\n';
      const chunk = 'x'.repeat(10_000);
      for (let a = 0; a < 140; a++) {
        anchors += `    l${a}: &a${a} ${chunk}\n`;
        aliases += `    n${a}: [${Array.from({ length: 100 }, () => `*a${a}`).join(',')}]\n`;
      }
      const aliasBomb = `${anchors.replace('  labels:\n', '  x-anchors:\n')}${aliases}spec: {run: "true"}\n`;
      // A bomb that validation would accept shape-wise (aliases of strings in a string map): ~1.4 MB -> 120 MB.
      let envBomb = 'kind: Job\nmetadata: {name: env-bomb}\nspec:\n  run: "true"\n  envs:\n';
      for (let a = 0; a < 120; a++) {
        envBomb += `    A${a}: &e${a} ${chunk}\n`;
        for (let k = 0; k < 99; k++) envBomb += `    B${a}_${k}: *e${a}\n`;
      }
      // Chained copies: each op doubles /spec/x (2^26 copies of 64 bytes is 4 GiB).
      const ops: unknown[] = [
        { op: 'add', path: '/metadata/annotations/x', value: 'y'.repeat(64) },
        { op: 'add', path: '/spec/x', value: { v: 'y'.repeat(64) } },
      ];
      for (let i = 0; i < 26; i++) ops.push({ op: 'copy', from: '/spec/x', path: `/spec/x/c${i}` });
      const flatOps: unknown[] = [{ op: 'add', path: '/metadata/annotations/a0', value: 'y'.repeat(1000) }];
      for (let i = 1; i < 60; i++) flatOps.push({ op: 'copy', from: `/metadata/annotations`, path: `/metadata/annotations/a${i}` });
      const manyOps = Array.from({ length: 20_000 }, () => ({ op: 'test', path: '/kind', value: 'Job' }));
      const deepJson = '['.repeat(100_000) + ']'.repeat(100_000);
      const deepObj = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
      const deepYaml = '['.repeat(50_000) + ']'.repeat(50_000);
      const deepYamlBlock = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' v\n';
      const manyJson: Record<string, string> = {};
      for (let i = 0; i < 100_000; i++) manyJson[`k${i}`] = '';
      const victim = await as('tenant', {
        method: 'POST',
        path: base,
        body: jobBody('amp-victim', { placement: { filters: [{ matchLabels: { nowhere: 'x' } }] } }),
      });
      c.check(victim.status === 201, `victim: ${short(victim)}`);
      // limit: the answer must come from a limit (413/422), not from whatever broke after the work was done.
      const cases: { label: string; who: string | undefined; req: Omit<Req, 'token'>; okIf2xx?: string; limit?: boolean }[] = [
        {
          label: 'YAML 80,000 keys on anonymous /login',
          who: undefined,
          req: { method: 'POST', path: '/login', contentType: 'application/yaml', body: yamlKeys, from: '127.0.0.40' },
        },
        {
          label: 'YAML 80,000 keys on anonymous /register',
          who: undefined,
          req: { method: 'POST', path: '/register', contentType: 'application/yaml', body: yamlKeys },
        },
        {
          label: 'YAML 80,000 annotation keys (job)',
          who: 'tenant',
          req: {
            method: 'POST',
            path: base,
            contentType: 'application/yaml',
            body: `kind: Job\nmetadata:\n  name: many-keys\n  annotations:\n${keys.replace(/: v$/gm, ': "v"').replace(/^ {2}/gm, '    ')}spec: {run: "true"}\n`,
          },
          okIf2xx: 'many-keys',
        },
        {
          label: 'YAML alias bomb 1.4 MB -> 140 MB (lists)',
          who: 'tenant',
          req: { method: 'POST', path: base, contentType: 'application/yaml', body: aliasBomb },
          okIf2xx: 'alias-bomb',
          limit: true,
        },
        {
          label: 'YAML alias bomb 1.4 MB -> 120 MB (env strings)',
          who: 'tenant',
          req: { method: 'POST', path: base, contentType: 'application/yaml', body: envBomb },
          okIf2xx: 'env-bomb',
          limit: true,
        },
        {
          label: 'YAML alias bomb as merge body (PUT)',
          who: 'tenant',
          req: { method: 'PUT', path: `${base}/amp-victim`, contentType: 'application/yaml', body: envBomb.replace('name: env-bomb', 'name: amp-victim') },
          okIf2xx: 'amp-victim',
          limit: true,
        },
        {
          label: 'JSON patch: 26 chained nested copies',
          who: 'tenant',
          req: { method: 'PATCH', path: `${base}/amp-victim`, contentType: 'application/json-patch+json', body: ops },
          okIf2xx: 'amp-victim',
          limit: true,
        },
        {
          label: 'JSON patch: 60 chained flat copies',
          who: 'tenant',
          req: { method: 'PATCH', path: `${base}/amp-victim`, contentType: 'application/json-patch+json', body: flatOps },
          okIf2xx: 'amp-victim',
          limit: true,
        },
        {
          label: 'JSON patch: 20,000 ops',
          who: 'tenant',
          req: { method: 'PATCH', path: `${base}/amp-victim`, contentType: 'application/json-patch+json', body: manyOps },
          okIf2xx: 'amp-victim',
          limit: true,
        },
        { label: 'JSON nested 100,000 deep', who: 'tenant', req: { method: 'POST', path: base, body: deepJson } },
        { label: 'JSON objects nested 50,000 deep', who: 'tenant', req: { method: 'POST', path: base, body: deepObj } },
        { label: 'JSON nested 100,000 deep on anonymous /login', who: undefined, req: { method: 'POST', path: '/login', body: deepJson, from: '127.0.0.41' } },
        { label: 'YAML flow nested 50,000 deep', who: 'tenant', req: { method: 'POST', path: base, contentType: 'application/yaml', body: deepYaml } },
        { label: 'YAML block nested 1,000 deep', who: 'tenant', req: { method: 'POST', path: base, contentType: 'application/yaml', body: deepYamlBlock } },
        {
          label: 'JSON 100,000 annotation keys',
          who: 'tenant',
          req: { method: 'POST', path: base, body: jobBody('many-json-keys', {}, { annotations: manyJson }) },
          okIf2xx: 'many-json-keys',
        },
        {
          label: 'JSON 100,000 keys merge patch',
          who: 'tenant',
          req: { method: 'PATCH', path: `${base}/amp-victim`, contentType: 'application/merge-patch+json', body: { metadata: { annotations: manyJson } } },
          okIf2xx: 'amp-victim',
        },
        {
          label: 'JSON 100,000 keys on anonymous /login',
          who: undefined,
          req: { method: 'POST', path: '/login', body: { username: 'guess', password: 'x', ...manyJson }, from: '127.0.0.42' },
        },
      ];
      c.serialise(cases.map((k) => k.req));
      await c.begin();
      const results: string[] = [];
      for (const k of cases) {
        const res = await c.attack(k.who, { timeoutMs: 60_000, ...k.req }, k.label);
        const bytes = typeof k.req.body === 'string' ? Buffer.byteLength(k.req.body) : Buffer.byteLength(JSON.stringify(k.req.body));
        results.push(`${k.label} (${Math.round(bytes / 1024)} KiB): ${res.status} in ${Math.round(res.ms)} ms`);
        t.diagnostic(`${results.at(-1)!} ${json(res)?.message?.slice(0, 140) ?? ''}`);
        if (is2xx(res.status) && k.okIf2xx) {
          const stored = await admin({ method: 'GET', path: `${base}/${k.okIf2xx}`, keep: 1 });
          c.check(stored.bytes < 256 * 1024, `${k.label}: accepted and stored ${stored.bytes} bytes`);
        } else c.check(is4xx(res.status), `${k.label}: want 4xx, got ${short(res)}`);
        if (k.limit) c.check(res.status === 413 || res.status === 422, `${k.label}: want a limit's 413/422, got ${short(res)}`);
        // A refusal must come from a limit checked before the work, not from the work blowing up.
        c.check(!/call stack|RangeError|out of memory|heap/i.test(res.body), `${k.label}: refused only after the work overflowed: ${short(res)}`);
      }
      // Every list of the kind still answers, and small.
      const list = await as('tenant', { method: 'GET', path: base, keep: 1 });
      c.check(list.status === 200 && list.bytes < 1024 * 1024, `list ${base} afterwards: ${list.status}, ${list.bytes} bytes`);
      const all = await admin({ method: 'GET', path: '/jobs', keep: 1 });
      c.check(all.status === 200 && all.bytes < 1024 * 1024, `list /jobs afterwards: ${all.status}, ${all.bytes} bytes`);
      for (const name of ['amp-victim', 'many-keys', 'alias-bomb', 'env-bomb', 'many-json-keys'])
        await as('tenant', { method: 'DELETE', path: `${base}/${name}` });
      return `${cases.length} bodies: ${results.filter((r) => / 4\d\d in /.test(r)).length} refused 4xx; slowest answer ${Math.round(Math.max(...results.map((r) => Number(/in (\d+) ms$/.exec(r)?.[1] ?? 0))))} ms`;
    });
  });

  test('5. the login throttle holds under concurrency; /login and /register take JSON only', { timeout: 90_000 }, async (t) => {
    await attackClass(t, '5. login throttle under concurrency', async (c) => {
      // JSON only, and a refused content type is not a failed login.
      const yamlLogin = await c.attack(
        undefined,
        { method: 'POST', path: '/login', contentType: 'application/yaml', body: 'username: guess\npassword: pw-guess-123456\n', from: '127.0.0.50' },
        '/login YAML',
      );
      c.check(yamlLogin.status === 415, `/login with application/yaml: ${short(yamlLogin)} (want 415)`);
      const yamlRegister = await c.attack(
        undefined,
        {
          method: 'POST',
          path: '/register',
          contentType: 'application/yaml',
          body: `username: yamluser\npassword: pw-yamluser-123456\ninvite: ${await invite([])}\n`,
          from: '127.0.0.50',
        },
        '/register YAML',
      );
      c.check(yamlRegister.status === 415, `/register with application/yaml: ${short(yamlRegister)} (want 415)`);
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json']) {
        const r = await c.attack(
          undefined,
          {
            method: 'POST',
            path: '/login',
            contentType: ct,
            body: ct.includes('json') ? '{"username":"guess","password":"pw-guess-123456"}' : 'username=guess&password=pw-guess-123456',
            from: '127.0.0.50',
          },
          `/login ${ct}`,
        );
        c.check(r.status === 415, `/login with ${ct}: ${short(r)} (want 415)`);
      }
      // A registration that loses a name race keeps its invite.
      const [i1, i2] = [await invite([]), await invite([])];
      const race = await Promise.all(
        [i1, i2].map((inv) =>
          c.attack(undefined, { method: 'POST', path: '/register', body: { username: 'racer', password: 'pw-racer-123456', invite: inv } }, 'register race'),
        ),
      );
      const codes = race.map((r) => r.status).sort();
      c.check(JSON.stringify(codes) === '[201,409]', `two registrations of one name: ${codes.join(', ')} (want 201 and 409)`);
      const loser = race[0]!.status === 409 ? i1 : i2;
      const reuse = await c.attack(
        undefined,
        { method: 'POST', path: '/register', body: { username: 'racer2', password: 'pw-racer-123456', invite: loser } },
        'loser reuses its invite',
      );
      c.check(reuse.status === 201, `the race's loser registers another name with its invite: ${short(reuse)}`);

      // 200 parallel wrong passwords for one user, each on its own connection.
      const N = 200;
      const guesses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          c.attack(
            undefined,
            { method: 'POST', path: '/login', body: { username: 'guess', password: `wrong-${i}-password` }, from: '127.0.0.51', timeoutMs: 60_000 },
            'parallel wrong login',
          ),
        ),
      );
      const by = new Map<number, number>();
      for (const g of guesses) by.set(g.status, (by.get(g.status) ?? 0) + 1);
      const checked = by.get(401) ?? 0;
      const throttled = by.get(429) ?? 0;
      c.check(throttled >= N - 10, `of ${N} parallel wrong logins ${throttled} were throttled (429) and ${checked} checked (401): ${JSON.stringify([...by])}`);
      c.check(checked <= 5, `${checked} of ${N} parallel guesses had their password checked (the throttle allows 3 free failures)`);
      const noRetry = guesses.filter((g) => g.status === 429 && !(Number(g.headers['retry-after']) >= 1));
      c.check(noRetry.length === 0, `${noRetry.length} 429s without a Retry-After`);
      // The same user from another address is still locked (per user), and says for how long.
      const locked = await c.attack(
        undefined,
        { method: 'POST', path: '/login', body: { username: 'guess', password: 'pw-guess-123456' }, from: '127.0.0.52' },
        'right password while locked',
      );
      const retry = Number(locked.headers['retry-after']);
      c.check(locked.status === 429 && retry >= 1, `the right password during the lockout: ${short(locked)} retry-after ${locked.headers['retry-after']}`);
      let relogin = 'not waited for';
      if (locked.status === 429 && retry >= 1 && retry <= 10) {
        await new Promise((r) => setTimeout(r, retry * 1000 + 300));
        const ok = await c.attack(
          undefined,
          { method: 'POST', path: '/login', body: { username: 'guess', password: 'pw-guess-123456' }, from: '127.0.0.53' },
          'right password after the lockout',
        );
        c.check(ok.status === 200, `the right password after the ${retry} s lockout: ${short(ok)}`);
        relogin = `${ok.status} after ${retry} s`;
      } else if (locked.status === 429) c.check(retry <= 300, `lockout of ${retry} s is over the 5 min maximum`);
      // 200 parallel wrong logins from one address, each for another name: the per-address count holds too.
      const spray = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          c.attack(
            undefined,
            { method: 'POST', path: '/login', body: { username: `spray${i}`, password: 'wrong-password' }, from: '127.0.0.55', timeoutMs: 60_000 },
            'parallel spray login',
          ),
        ),
      );
      const sprayChecked = spray.filter((g) => g.status === 401).length;
      const sprayThrottled = spray.filter((g) => g.status === 429).length;
      c.check(
        sprayThrottled >= N - 25 && sprayChecked <= 20,
        `${N} parallel wrong logins for ${N} names from one address: ${sprayThrottled}×429, ${sprayChecked}×401 (the address gets 15 free failures)`,
      );
      // Other users are not locked out by the attack on one name.
      const other = await c.attack(
        undefined,
        { method: 'POST', path: '/login', body: { username: 'tenant', password: 'pw-tenant-123456' }, from: '127.0.0.54' },
        'another user',
      );
      c.check(other.status === 200, `another user logs in meanwhile: ${short(other)}`);
      return `${N} parallel wrong logins for one user: ${throttled}×429, ${checked}×401; ${N} for ${N} names from one address: ${sprayThrottled}×429, ${sprayChecked}×401; right password ${relogin}; YAML/text/form /login and YAML /register: 415; name race 201+409, loser's invite still good`;
    });
  });

  test('6. a second skyshift up on the same data dir refuses to start and disturbs nothing', { timeout: 120_000 }, async (t) => {
    await attackClass(t, '6. two processes on one data dir', async (c) => {
      const run = 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done';
      const made = await as('tenant', { method: 'POST', path: `/${NS}/jobs`, body: jobBody('long-runner', { run }) });
      c.check(made.status === 201, `long-running job: ${short(made)}`);
      await waitJob(NS, 'long-runner', ['ACTIVE'], 45_000);
      const ticks = (s: string) => (s.match(/^tick \d+$/gm) ?? []).length;
      const deadline = Date.now() + 10_000;
      let before = await logsOf('tenant', NS, 'long-runner');
      while (ticks(before.body) < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        before = await logsOf('tenant', NS, 'long-runner');
      }
      c.check(ticks(before.body) >= 2, `the job writes its log: ${short(before)}`);
      // The second process: same HOME, data dir and store, another port.
      const port = await freePort();
      const logFile = join(dir, 'second.log');
      const second = await c.start(() =>
        startDaemon(
          process.execPath,
          [
            '--import',
            'tsx',
            SKYSHIFT_BIN,
            'up',
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--store',
            `sqlite:${join(dataDir, 'skyshift.db')}`,
            '--heartbeat-seconds',
            '1',
          ],
          { logFile, env: { HOME: dir }, cwd: REPO_ROOT },
        ),
      );
      const exited = new Promise<void>((r) => {
        if (second.child.exitCode !== null || second.child.signalCode !== null) r();
        else second.child.once('exit', () => r());
      });
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
      const served = gone
        ? false
        : await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          );
      if (!gone) await second.kill();
      const message = readFileSync(logFile, 'utf8');
      c.check(gone, `the second skyshift up was still running after 30 s (serving: ${served}); its log:\n${message.slice(-600)}`);
      c.check(!gone || (second.child.exitCode ?? 0) !== 0, `the second skyshift up exited ${second.child.exitCode} (want non-zero)`);
      const names = new RegExp(`\\b${sky.daemon.pid}\\b`).test(message);
      const refusal =
        message
          .split('\n')
          .find((l) => l.includes(String(sky.daemon.pid)))
          ?.trim() ??
        message.trim().split('\n').at(-1) ??
        '';
      c.check(names, `the refusal names the holder (pid ${sky.daemon.pid}): ${message.slice(-400)}`);
      // The first one's work is untouched: the job still runs and its log keeps growing from the start.
      await new Promise((r) => setTimeout(r, 1500));
      const later = await c.attack(
        'tenant',
        { method: 'GET', path: `/${NS}/jobs/long-runner/logs`, keep: 64 * 1024 * 1024, timeoutMs: 20_000 },
        'logs after the second process',
      );
      c.check(later.status === 200 && later.body.startsWith(before.body.slice(0, 40)), `the job's log was replaced or lost: ${short(later)}`);
      c.check(ticks(later.body) > ticks(before.body), `the job stopped writing: ${ticks(before.body)} ticks before, ${ticks(later.body)} after`);
      const job = json(await c.attack('admin', { method: 'GET', path: `/${NS}/jobs/long-runner` }, 'job after the second process'));
      c.check(job?.status?.phase === 'ACTIVE', `the job is ${job?.status?.phase} (want ACTIVE)`);
      const h = await http(sky.url, { method: 'GET', path: '/healthz', timeoutMs: 5000 });
      c.check(h.status === 200, `the first skyshift still answers: ${short(h)}`);
      t.diagnostic(`the second process said: ${refusal}`);
      return `second process ${gone ? `exited ${second.child.exitCode}` : 'kept running'}${names ? ", naming the holder's pid" : ''}; job still ${job?.status?.phase}, log ${ticks(before.body)} -> ${ticks(later.body)} ticks`;
    });
  });

  test('6b. after a crash the stale lock is taken over: kill -9 then restart works and adopts the running job', { timeout: 120_000 }, async () => {
    await sky.kill9();
    await sky.restart();
    const h = await http(sky.url, { method: 'GET', path: '/healthz', timeoutMs: 5000 });
    assert.equal(h.status, 200);
    const job = await waitJob(NS, 'long-runner', ['ACTIVE'], 10_000);
    assert.equal(job.status.phase, 'ACTIVE');
    await as('tenant', { method: 'DELETE', path: `/${NS}/jobs/long-runner` });
  });

  test('7. the largest requests within the limits are served (figure: event-loop stall per request)', { timeout: 90_000 }, async (t) => {
    await attackClass(t, '7. largest requests within the limits', async (c) => {
      const base = `/${NS}/jobs`;
      const labels: Record<string, string> = {};
      for (let i = 0; i < 64; i++) labels[`label-${i}`] = `v${'x'.repeat(60)}`;
      const envs: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) envs[`E${i}`] = 'e'.repeat(500); // 1,000 entries, ~500 KiB of the 512 KiB total
      const annotations = { big: 'a'.repeat(250 * 1024) };
      const nowhere = { filters: [{ matchLabels: { 'attack-suite': 'nowhere' } }] };
      const full = jobBody('at-limits', { replicas: 10_000, envs, placement: nowhere }, { labels, annotations });
      const yamlJob = [
        'kind: Job',
        'metadata:',
        '  name: at-limits-yaml',
        '  labels:',
        ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`),
        `  annotations: {big: ${'a'.repeat(250 * 1024)}}`,
        'spec:',
        '  run: "true"',
        '  replicas: 10000',
        '  placement: {filters: [{matchLabels: {attack-suite: nowhere}}]}',
        '  envs:',
        ...Object.keys(envs).map((k) => `    ${k}: ${'e'.repeat(500)}`),
        '',
      ].join('\n');
      const ops = Array.from({ length: 1000 }, (_, i) => ({ op: 'replace', path: `/spec/envs/E${i}`, value: 'g'.repeat(500) }));
      const steps: { label: string; req: Omit<Req, 'token'>; want: number[]; who?: string }[] = [
        { label: 'create a job at every limit (JSON, ~760 KiB)', req: { method: 'POST', path: base, body: full }, want: [201] },
        { label: 'the same as YAML', req: { method: 'POST', path: base, contentType: 'application/yaml', body: yamlJob }, want: [201] },
        {
          label: 'JSON patch of 1,000 ops',
          req: { method: 'PATCH', path: `${base}/at-limits`, contentType: 'application/json-patch+json', body: ops },
          want: [200],
        },
        {
          label: 'merge patch of all env values',
          req: {
            method: 'PATCH',
            path: `${base}/at-limits`,
            contentType: 'application/merge-patch+json',
            body: { spec: { envs: Object.fromEntries(Object.keys(envs).map((k) => [k, 'f'.repeat(500)])) } },
          },
          want: [200],
        },
        { label: 'list the namespace (two ~1 MB jobs)', req: { method: 'GET', path: base, keep: 1 }, want: [200] },
        { label: 'list all namespaces (as admin)', req: { method: 'GET', path: '/jobs', keep: 1 }, want: [200], who: 'admin' },
        { label: 'delete', req: { method: 'DELETE', path: `${base}/at-limits` }, want: [200] },
        { label: 'delete (YAML one)', req: { method: 'DELETE', path: `${base}/at-limits-yaml` }, want: [200] },
      ];
      c.serialise(steps.map((k) => k.req));
      await c.begin();
      const stalls: string[] = [];
      let worst = 0;
      for (const step of steps) {
        await eventLoopMaxMs(sky.url, sky.token);
        const res = await c.attack(step.who ?? 'tenant', step.req, step.label);
        await new Promise((r) => setTimeout(r, 300)); // let the controllers see the change
        const lag = (await eventLoopMaxMs(sky.url, sky.token)) ?? NaN;
        worst = Math.max(worst, lag);
        c.stall(lag);
        stalls.push(`${step.label}: ${res.status}, ${Math.round(res.ms)} ms, event-loop max ${Math.round(lag)} ms`);
        t.diagnostic(stalls.at(-1)!);
        c.check(step.want.includes(res.status), `${step.label}: want ${step.want.join('/')}, got ${short(res)}`);
      }
      return `${steps.length} requests at the limits all served; longest event-loop stall around one request ${Math.round(worst)} ms`;
    });
  });
});
