/**
 * Users, roles and secure access against a real `skyshift server` with auth on
 * (issue 5): every route for several principals, the invite flow, login
 * failures, throttling, secrets never in a body or the log, file modes, TLS.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KINDS, type KindInfo } from '../src/api/index.js';
import { TokenSigner } from '../src/server/auth/tokens.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SkyShiftClient, login } from '../src/client/index.js';
import { freePort, waitFor } from './infra/ports.js';
import { startDaemon } from './infra/process.js';
import { SKYSHIFT_BIN, startServer, type TestServer } from './infra/server.js';
import { selfSignedCert } from './infra/tls.js';

let server: TestServer;
const bodies: string[] = [];
const tokens: Record<string, string | undefined> = {};

async function call(method: string, path: string, token?: string, body?: unknown, contentType = 'application/json') {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const abort = new AbortController();
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: abort.signal });
  let text = '';
  // Watches and logs stream: the status line is the answer; stop reading after it.
  if (/[?&]watch=true/.test(path) || path.endsWith('/logs')) abort.abort();
  else text = await res.text();
  // The API schema names the /login body's `password` field: a field name, not a secret.
  if (path.split('?', 1)[0] !== '/openapi.json') bodies.push(text);
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, any>, headers: res.headers };
}

const NS = 'team-a';
const DEV_KINDS = ['jobs', 'services', 'filterpolicies', 'endpoints', 'events'];

function minimal(kind: KindInfo, name: string): Record<string, unknown> {
  const specs: Record<string, unknown> = {
    Cluster: { manager: 'local' },
    Job: { run: 'true' },
    Service: {},
    Endpoints: {},
    Link: { sourceCluster: 'a', targetCluster: 'b' },
    Event: { involvedObject: { kind: 'Job', name: 'j' }, reason: 'Scheduled' },
    Role: { rules: [{ resources: ['jobs'], actions: ['get'] }], namespaces: [NS] },
  };
  return { kind: kind.kind, metadata: { name }, ...(specs[kind.kind] !== undefined ? { spec: specs[kind.kind] } : {}) };
}

function base(kind: KindInfo): string {
  return kind.namespaced ? `/${NS}/${kind.plural}` : `/${kind.plural}`;
}

before(async () => {
  server = await startServer({ auth: true });
  const password = readFileSync(join(server.dir, '.skyshift', 'admin-password'), 'utf8').trim();
  const admin = await call('POST', '/login', undefined, { username: 'admin', password });
  assert.equal(admin.status, 200, admin.text);
  tokens.admin = admin.json().token as string;
  assert.equal((await call('POST', '/namespaces', tokens.admin, { metadata: { name: NS } })).status, 201);
  const role = await call('POST', '/roles', tokens.admin, {
    metadata: { name: 'dev-role' },
    spec: { namespaces: [NS], rules: [{ resources: DEV_KINDS, actions: ['*'] }] },
  });
  assert.equal(role.status, 201, role.text);
  for (const [user, roles] of [
    ['reader', ['reader-role']],
    ['dev', ['dev-role']],
    ['nobody', []],
  ] as const) {
    const invite = await call('POST', '/invites', tokens.admin, { roles });
    assert.equal(invite.status, 201, invite.text);
    const reg = await call('POST', '/register', undefined, { username: user, password: `pw-of-${user}-123`, invite: invite.json().token });
    assert.equal(reg.status, 201, reg.text);
    const login = await call('POST', '/login', undefined, { username: user, password: `pw-of-${user}-123` });
    assert.equal(login.status, 200, login.text);
    tokens[user] = login.json().token as string;
  }
  // An expired token, signed with the server's real key: only the expiry is wrong.
  const key = new Uint8Array(Buffer.from(readFileSync(join(server.dir, '.skyshift', 'auth', 'signing.key'), 'utf8').trim(), 'base64url'));
  const past = new TokenSigner(key, () => new Date(Date.now() - 3600_000));
  tokens.expired = (await past.signAccess('admin', 60)).token;
  tokens.garbage = 'not.a.token';
  tokens.none = undefined;
  // Fixtures every principal reads and (if allowed) writes.
  for (const kind of KINDS) {
    if (kind.plural === 'users') continue;
    const res = await call('POST', base(kind), tokens.admin, minimal(kind, 'fix'));
    assert.equal(res.status, 201, `${kind.plural}: ${res.text}`);
  }
});

after(async () => {
  await server?.stop();
});

type Who = 'admin' | 'reader' | 'dev' | 'nobody' | 'none' | 'garbage' | 'expired';
const WHO: Who[] = ['admin', 'reader', 'dev', 'nobody', 'none', 'garbage', 'expired'];

/** The role model, written out independently of the server's code. */
function allowed(who: Who, action: string, kind: KindInfo, scope: 'ns' | 'all', status = false): boolean {
  if (who === 'admin') return true;
  if (who === 'reader') return ['get', 'list', 'watch'].includes(action);
  if (who === 'dev') return scope === 'ns' && kind.namespaced && DEV_KINDS.includes(kind.plural) && !status;
  return false;
}

function expect(who: Who, action: string, kind: KindInfo, scope: 'ns' | 'all', ok: number, status = false): number {
  if (who === 'none' || who === 'garbage' || who === 'expired') return 401;
  return allowed(who, action, kind, scope, status) ? ok : 403;
}

test('every resource route answers 200/201/401/403 exactly as the roles say', async () => {
  const failures: string[] = [];
  const check = (what: string, got: number, want: number, text: string) => {
    if (got !== want) failures.push(`${what}: got ${got}, want ${want} ${text.slice(0, 160)}`);
  };
  for (const who of WHO) {
    const token = tokens[who];
    for (const kind of KINDS) {
      if (kind.plural === 'users') continue; // walked in the account-routes test
      const b = base(kind);
      const name = `${who}-x`;
      const scope = kind.namespaced ? 'ns' : 'all';
      let r = await call('POST', b, token, minimal(kind, name));
      check(`${who} POST ${b}`, r.status, expect(who, 'create', kind, scope, 201), r.text);
      const mine = r.status === 201 ? name : 'fix';
      for (const [path, action, sc] of [
        [b, 'list', scope],
        [`${b}?watch=true`, 'watch', scope],
        [`${b}/fix`, 'get', scope],
        [`${b}/fix?watch=true`, 'watch', scope],
        [`${b}/fix/status`, 'get', scope],
        ...(kind.namespaced
          ? [
              [`/${kind.plural}`, 'list', 'all'],
              [`/${kind.plural}?watch=true`, 'watch', 'all'],
            ]
          : []),
      ] as [string, string, 'ns' | 'all'][]) {
        r = await call('GET', path, token);
        check(`${who} GET ${path}`, r.status, expect(who, action, kind, sc, 200), r.text);
      }
      if (kind.plural === 'jobs') {
        r = await call('GET', `${b}/fix/logs`, token);
        // The fixture job is never placed (no clusters): an allowed caller reaches the handler, which answers 400.
        check(`${who} GET logs`, r.status, expect(who, 'get', kind, scope, 400), r.text);
      }
      r = await call('PATCH', `${b}/${mine}`, token, { metadata: { labels: { walked: 'yes' } } }, 'application/merge-patch+json');
      check(`${who} PATCH ${b}/${mine}`, r.status, expect(who, 'patch', kind, scope, 200), r.text);
      const current = (await call('GET', `${b}/${mine}`, tokens.admin)).json();
      r = await call('PUT', `${b}/${mine}/status`, token, current);
      check(`${who} PUT ${b}/${mine}/status`, r.status, expect(who, 'update', kind, scope, 200, true), r.text);
      const fresh = (await call('GET', `${b}/${mine}`, tokens.admin)).json();
      r = await call('PUT', `${b}/${mine}`, token, fresh);
      check(`${who} PUT ${b}/${mine}`, r.status, expect(who, 'update', kind, scope, 200), r.text);
      if (mine === name) {
        r = await call('DELETE', `${b}/${mine}`, token);
        check(`${who} DELETE ${b}/${mine}`, r.status, expect(who, 'delete', kind, scope, 200), r.text);
      } else {
        r = await call('DELETE', `${b}/fix`, token);
        check(`${who} DELETE ${b}/fix`, r.status, expect(who, 'delete', kind, scope, 200), r.text);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('account routes and operational routes', async () => {
  const cases: [Who, string, string, number][] = [];
  for (const who of WHO) {
    const authn = !['none', 'garbage', 'expired'].includes(who);
    cases.push([who, 'GET', '/whoami', authn ? 200 : 401]);
    cases.push([who, 'GET', '/users', authn ? (who === 'admin' || who === 'reader' ? 200 : 403) : 401]);
    cases.push([who, 'GET', '/users/admin', authn ? (who === 'admin' || who === 'reader' ? 200 : 403) : 401]);
    cases.push([who, 'GET', '/metrics', authn ? (who === 'admin' || who === 'reader' ? 200 : 403) : 401]);
    cases.push([who, 'POST', '/invites', authn ? (who === 'admin' ? 201 : 403) : 401]);
    cases.push([who, 'DELETE', '/users/nosuchuser', authn ? (who === 'admin' ? 404 : 403) : 401]);
    cases.push([who, 'DELETE', `/invites/${'0'.repeat(48)}`, authn ? (who === 'admin' ? 404 : 403) : 401]);
    for (const open of ['/healthz', '/readyz', '/version', '/openapi.json']) cases.push([who, 'GET', open, 200]);
  }
  const failures: string[] = [];
  for (const [who, method, path, want] of cases) {
    const r = await call(method, path, tokens[who], method === 'POST' ? { roles: [] } : undefined);
    if (r.status !== want) failures.push(`${who} ${method} ${path}: got ${r.status}, want ${want} ${r.text.slice(0, 120)}`);
  }
  assert.deepEqual(failures, []);
  const who = (await call('GET', '/whoami', tokens.dev)).json();
  assert.deepEqual([who.user, who.roles, who.namespaces], ['dev', ['dev-role'], [NS]]);
  const unauth = await call('GET', '/jobs');
  assert.match(unauth.headers.get('www-authenticate') ?? '', /^Bearer/);
});

test('invites: single use, revocable, and only roles the inviter holds', async () => {
  const inviter = await call('POST', '/invites', tokens.admin, { roles: ['inviter-role', 'reader-role'] });
  await call('POST', '/register', undefined, { username: 'inviter1', password: 'inviter-pass', invite: inviter.json().token });
  const t = (await call('POST', '/login', undefined, { username: 'inviter1', password: 'inviter-pass' })).json().token as string;
  // May grant what it holds, not what it does not.
  assert.equal((await call('POST', '/invites', t, { roles: ['reader-role'] })).status, 201);
  assert.equal((await call('POST', '/invites', t, { roles: ['admin-role'] })).status, 403);
  assert.equal((await call('POST', '/invites', t, { roles: ['dev-role'] })).status, 403);
  assert.equal((await call('POST', '/invites', tokens.reader, { roles: [] })).status, 403, 'reader-role cannot invite');
  // A role that grants more than the writer holds cannot be written either.
  const escalate = await call('POST', '/roles', t, { metadata: { name: 'mine' }, spec: { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['*'] }] } });
  assert.equal(escalate.status, 403);
  // Single use.
  const once = (await call('POST', '/invites', t, { roles: ['reader-role'] })).json();
  assert.equal((await call('POST', '/register', undefined, { username: 'once1', password: 'password1', invite: once.token })).status, 201);
  assert.equal((await call('POST', '/register', undefined, { username: 'once2', password: 'password1', invite: once.token })).status, 403);
  // A taken name does not burn the invite.
  const spare = (await call('POST', '/invites', t, { roles: [] })).json();
  assert.equal((await call('POST', '/register', undefined, { username: 'once1', password: 'password1', invite: spare.token })).status, 409);
  assert.equal((await call('POST', '/register', undefined, { username: 'spare1', password: 'password1', invite: spare.token })).status, 201);
  // Revoked: by token; another user cannot revoke it.
  const revoked = (await call('POST', '/invites', t, { roles: [] })).json();
  assert.equal((await call('DELETE', `/invites/${revoked.token}`, tokens.reader)).status, 403);
  assert.equal((await call('DELETE', `/invites/${revoked.token}`, t)).status, 200);
  assert.equal((await call('POST', '/register', undefined, { username: 'revoked1', password: 'password1', invite: revoked.token })).status, 403);
  // Garbage and access tokens are not invites.
  assert.equal((await call('POST', '/register', undefined, { username: 'forged1', password: 'password1', invite: tokens.admin })).status, 403);
  // Deleting a user kills its tokens and memberships.
  assert.equal((await call('DELETE', '/users/once1', tokens.admin)).status, 200);
  const roles = (await call('GET', '/roles/reader-role', tokens.admin)).json();
  assert.ok(!roles.spec.users.includes('once1'));
});

test('failed logins do not reveal whether the user exists, and are slowed down', async () => {
  const unknown = await call('POST', '/login', undefined, { username: 'ghost', password: 'whatever1' });
  const wrong = await call('POST', '/login', undefined, { username: 'reader', password: 'whatever1' });
  assert.equal(unknown.status, 401);
  assert.equal(wrong.status, 401);
  assert.equal(unknown.text, wrong.text);
  // Timing: both run one argon2 verification; a skipped one would be several times faster.
  const time = async (username: string) => {
    const t0 = performance.now();
    await call('POST', '/login', undefined, { username, password: 'x' });
    return performance.now() - t0;
  };
  const health = async () => {
    const t0 = performance.now();
    await call('GET', '/healthz');
    return performance.now() - t0;
  };
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const tUnknown = median([await time('ghost2'), await time('ghost3'), await time('ghost4')]);
  const tKnown = median([await time('nobody'), await time('admin'), await time('inviter1')]);
  const tNothing = median([await health(), await health(), await health()]);
  assert.ok(tUnknown > tNothing + 3, `unknown-user login ${tUnknown} ms vs a plain request ${tNothing} ms: no dummy verification?`);
  assert.ok(tUnknown > tKnown / 3 && tUnknown < tKnown * 3, `unknown ${tUnknown} ms vs known ${tKnown} ms`);
  // Three free failures, then each failure starts a doubling lockout.
  for (let i = 0; i < 4; i++) await call('POST', '/login', undefined, { username: 'dev', password: 'wrong-pw' });
  const slowed = await call('POST', '/login', undefined, { username: 'dev', password: 'pw-of-dev-123' });
  assert.equal(slowed.status, 429, 'the right password is refused during the lockout');
  assert.ok(Number(slowed.headers.get('retry-after')) >= 1);
  const other = await call('POST', '/login', undefined, { username: 'reader', password: 'pw-of-reader-123' });
  assert.equal(other.status, 200, 'other users are not locked out');
});

test('no password, hash or secret in any response body or log line; secret files are 0600', async () => {
  const users = await call('GET', '/users', tokens.admin);
  assert.ok(users.json().items.length >= 4);
  const everything = bodies.join('\n');
  for (const needle of ['password', 'Hash', '$argon2', 'pw-of-']) assert.ok(!everything.includes(needle), `a response body contains ${needle}`);
  const log = readFileSync(join(server.dir, 'server.log'), 'utf8');
  const adminPassword = readFileSync(join(server.dir, '.skyshift', 'admin-password'), 'utf8').trim();
  for (const needle of ['$argon2', 'pw-of-', adminPassword, tokens.admin!, 'passwordHash']) {
    assert.ok(!log.includes(needle), `the server log contains a secret (${needle.slice(0, 8)}...)`);
  }
  for (const file of ['admin-password', 'controllers.token', 'auth/signing.key']) {
    assert.equal(statSync(join(server.dir, '.skyshift', file)).mode & 0o777, 0o600, file);
  }
});

test('TLS: the server serves HTTPS with --tls-cert/--tls-key; the client trusts a CA file or an explicit insecure flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-tls-'));
  const { key, cert } = selfSignedCert(dir);
  const port = await freePort();
  const daemon = startDaemon(
    process.execPath,
    ['--import', 'tsx', SKYSHIFT_BIN, 'server', '--port', String(port), '--store', `sqlite:${join(dir, 'db')}`, '--tls-cert', cert, '--tls-key', key],
    { logFile: join(dir, 'server.log'), env: { HOME: dir } },
  );
  try {
    const url = `https://127.0.0.1:${port}`;
    const trusted = new SkyShiftClient({ server: url, tls: { ca: readFileSync(cert) } });
    await waitFor('https server', async () => (await trusted.call<{ version: string }>('GET', '/version').catch(() => undefined)) !== undefined);
    await assert.rejects(new SkyShiftClient({ server: url }).call('GET', '/version'), /cannot reach/, 'an unknown CA is refused');
    const insecure = new SkyShiftClient({ server: url, tls: { insecureSkipTlsVerify: true } });
    assert.ok((await insecure.call<{ version: string }>('GET', '/version')).version);
    const password = readFileSync(join(dir, '.skyshift', 'admin-password'), 'utf8').trim();
    const { token } = await login(trusted, 'admin', password);
    const admin = new SkyShiftClient({ server: url, token, tls: { ca: readFileSync(cert) } });
    assert.equal((await admin.list('jobs', { namespace: 'default' })).items.length, 0);
    await assert.rejects(trusted.list('jobs', { namespace: 'default' }), /authentication required/);
  } finally {
    await daemon.stop();
  }
});
