/**
 * The gate answers from memory (verified-token cache, roles and users from the
 * server's watch caches); these tests pin down that no change is ever answered
 * from a stale copy: grants and revocations apply on the next request, a
 * deleted user's tokens die at once, expired tokens die on time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../store/index.js';
import { createApiServer, type ApiServer } from '../app.js';
import { CONTROLLER_USER, createAuth, type Auth } from './index.js';
import { allows, RuleIndex, type RoleView } from './rbac.js';
import { TokenCache } from './token-cache.js';

interface Harness {
  server: ApiServer;
  store: Store;
  auth: Auth;
  clock: { ms: number };
  admin: string;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-auth-cache-'));
  const store = await openStore('memory:');
  const clock = { ms: Date.now() };
  const auth = await createAuth({ store, dataDir: dir, tokenTtlSeconds: 600, now: () => new Date(clock.ms) });
  const server = createApiServer({ store, auth });
  await server.ready();
  return {
    server,
    store,
    auth,
    clock,
    admin: await auth.adminToken(3600),
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function call(h: Harness, token: string | undefined, method: string, url: string, body?: unknown) {
  const res = await h.server.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, json: () => JSON.parse(res.body) as Record<string, unknown> };
}

/** A user with no roles, registered through an invite, and its login token. */
async function newUser(h: Harness, name: string): Promise<string> {
  const invite = await call(h, h.admin, 'POST', '/invites', { roles: [] });
  assert.equal(invite.status, 201);
  const password = `pw-of-${name}-123`;
  const reg = await call(h, undefined, 'POST', '/register', { username: name, password, invite: invite.json().token });
  assert.equal(reg.status, 201);
  const login = await call(h, undefined, 'POST', '/login', { username: name, password });
  assert.equal(login.status, 200);
  return login.json().token as string;
}

const devRole = (users: string[]) => ({
  kind: 'Role',
  metadata: { name: 'dev-role' },
  spec: { namespaces: ['default'], rules: [{ resources: ['jobs'], actions: ['*'] }], users },
});

const job = (name: string) => ({ kind: 'Job', metadata: { name }, spec: { run: 'true' } });

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within 2 s: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('auth caches', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => {
    await h.close();
  });

  test('a role granted or revoked through the API applies to the very next request', async () => {
    const dev = await newUser(h, 'dev');
    assert.equal((await call(h, dev, 'GET', '/default/jobs')).status, 403, 'no role yet');
    assert.equal((await call(h, h.admin, 'POST', '/roles', devRole(['dev']))).status, 201);
    assert.equal((await call(h, dev, 'POST', '/default/jobs', job('a'))).status, 201, 'granted at once');
    assert.equal((await call(h, dev, 'GET', '/default/jobs')).status, 200);

    const patched = await call(h, h.admin, 'PATCH', '/roles/dev-role', { spec: { users: [] } });
    assert.equal(patched.status, 200);
    assert.equal((await call(h, dev, 'GET', '/default/jobs')).status, 403, 'revoked at once');

    assert.equal((await call(h, h.admin, 'PATCH', '/roles/dev-role', { spec: { users: ['dev'] } })).status, 200);
    assert.equal((await call(h, dev, 'GET', '/default/jobs')).status, 200);
    assert.equal((await call(h, h.admin, 'DELETE', '/roles/dev-role')).status, 200);
    assert.equal((await call(h, dev, 'GET', '/default/jobs')).status, 403, 'a deleted role grants nothing');
  });

  test('a role changed behind the server (another API server) applies with the watch event', async () => {
    const token = await newUser(h, 'remote');
    assert.equal((await call(h, token, 'GET', '/default/jobs')).status, 403);
    const key = '/registry/roles/remote-role';
    const role = { ...devRole(['remote']), metadata: { name: 'remote-role', uid: 'u-remote-role' } };
    await h.store.create(key, role as never);
    await eventually(async () => (await call(h, token, 'GET', '/default/jobs')).status === 200, 'grant seen');
    await h.store.delete(key);
    await eventually(async () => (await call(h, token, 'GET', '/default/jobs')).status === 403, 'revocation seen');
  });

  test("a deleted user's cached token is rejected on the next request", async () => {
    const gone = await newUser(h, 'gone');
    assert.equal((await call(h, gone, 'GET', '/whoami')).status, 200, 'token verified and cached');
    assert.equal((await call(h, gone, 'GET', '/whoami')).status, 200);
    assert.equal((await call(h, h.admin, 'DELETE', '/users/gone')).status, 200);
    assert.equal((await call(h, gone, 'GET', '/whoami')).status, 401);
  });

  test('a user deleted behind the server loses access with the watch event', async () => {
    const token = await newUser(h, 'gone2');
    assert.equal((await call(h, token, 'GET', '/whoami')).status, 200);
    await h.store.delete('/registry/users/gone2');
    await eventually(async () => (await call(h, token, 'GET', '/whoami')).status === 401, 'deletion seen');
  });

  test("a re-created user of the same name does not inherit the old one's service token", async () => {
    const sa = h.auth.controllerToken;
    assert.equal((await call(h, sa, 'GET', '/default/jobs')).status, 200, 'service token verified and cached');
    assert.equal((await call(h, h.admin, 'DELETE', `/users/${CONTROLLER_USER}`)).status, 200);
    assert.equal((await call(h, sa, 'GET', '/whoami')).status, 401);
    const again = { kind: 'User', metadata: { name: CONTROLLER_USER }, spec: { type: 'serviceaccount' } };
    assert.equal((await call(h, h.admin, 'POST', '/users', again)).status, 201);
    assert.equal((await call(h, sa, 'GET', '/whoami')).status, 401, 'the digest went with the old user');
  });

  test('a cached token still expires on time', async () => {
    const token = await h.auth.adminToken(60);
    assert.equal((await call(h, token, 'GET', '/whoami')).status, 200);
    h.clock.ms += 61_000;
    try {
      assert.equal((await call(h, token, 'GET', '/whoami')).status, 401);
    } finally {
      h.clock.ms -= 61_000;
    }
  });
});

test('token cache: bounded, least recently used first, expiry in whole seconds like jose', () => {
  const cache = new TokenCache(2);
  const entry = (user: string, exp = Infinity) => ({ user, uid: 'u', expiresAtSeconds: exp, recheckAtMs: Infinity });
  cache.set('a', entry('a'));
  cache.set('b', entry('b'));
  assert.ok(cache.get('a', 0), 'a is now the most recently used');
  cache.set('c', entry('c'));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', 0), undefined, 'b was evicted');
  assert.ok(cache.get('a', 0) && cache.get('c', 0));
  cache.set('e', entry('e', 100));
  assert.ok(cache.get('e', 99_999));
  assert.equal(cache.get('e', 100_000), undefined, 'exp == now is expired');
  cache.set('s', { ...entry('s'), recheckAtMs: 5_000 });
  assert.equal(cache.get('s', 5_000), undefined, 'service tokens are re-read from the store');
  cache.forgetUser('a');
  assert.equal(cache.get('a', 0), undefined);
});

test('RuleIndex answers exactly as allows() over every combination', () => {
  const roles: RoleView[] = [
    { name: 'admin', spec: { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['*'] }], users: ['admin'] } },
    { name: 'reader', spec: { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['get', 'list', 'watch'] }], users: ['r', 'm'] } },
    {
      name: 'dev',
      spec: {
        namespaces: ['team-a', 'team-b'],
        rules: [
          { resources: ['jobs'], actions: ['*'] },
          { resources: ['services', 'jobs/status'], actions: ['get', 'update'] },
        ],
        users: ['d', 'm'],
      },
    },
    { name: 'inv', spec: { namespaces: ['*'], rules: [{ resources: ['invites'], actions: ['create'] }], users: ['m'] } },
    { name: 'ns-star', spec: { namespaces: ['team-c'], rules: [{ resources: ['*'], actions: ['delete'] }], users: ['d'] } },
  ];
  const index = new RuleIndex(roles);
  const users = ['admin', 'r', 'd', 'm', 'nobody'];
  const actions = ['get', 'list', 'create', 'update', 'delete', 'watch', '*'];
  const resources = ['jobs', 'jobs/status', 'services', 'invites', 'clusters', '*'];
  const namespaces = [undefined, '*', 'team-a', 'team-b', 'team-c', 'default', ''];
  let checked = 0;
  for (const user of users)
    for (const action of actions)
      for (const resource of resources)
        for (const namespace of namespaces) {
          const request = { action, resource, namespace };
          assert.equal(index.allows(user, request), allows(roles, user, request), JSON.stringify({ user, ...request }));
          checked++;
        }
  assert.equal(checked, users.length * actions.length * resources.length * namespaces.length);
});
