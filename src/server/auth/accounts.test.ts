/**
 * Account flows under concurrency and the /metrics answer, in-process
 * (issue 8, finding 5): a registration that loses a name race keeps its
 * invite; an unauthorised /metrics carries no metrics of any registry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { openStore, type Store } from '../../store/index.js';
import { createApiServer, type ApiServer } from '../app.js';
import { createAuth } from './index.js';

let server: ApiServer;
let store: Store;
let admin = '';
let dir = '';
const extra = new Registry();
new Counter({ name: 'skyshift_test_extra_total', help: 'a metric of another registry', registers: [extra] }).inc();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skyshift-accounts-'));
  store = await openStore('memory:');
  const auth = await createAuth({ store, dataDir: dir });
  server = createApiServer({ store, auth, metricsRegistries: [extra] });
  await server.ready();
  admin = await auth.adminToken(3600);
});

after(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, token?: string, body?: unknown) {
  const res = await server.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Record<string, any> };
}

async function invite(roles: string[] = []): Promise<string> {
  const r = await call('POST', '/invites', admin, { roles });
  assert.equal(r.status, 201, r.body);
  return r.json().token as string;
}

test('parallel registrations of one name: exactly one wins, and every loser keeps its invite', async () => {
  for (let round = 0; round < 5; round++) {
    const invites = [await invite(['reader-role']), await invite(), await invite()];
    const name = `racer-${round}`;
    const results = await Promise.all(invites.map((token) => call('POST', '/register', undefined, { username: name, password: 'password-1', invite: token })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409], results.map((r) => r.body).join('\n'));
    for (const [i, r] of results.entries()) {
      const again = await call('POST', '/register', undefined, { username: `${name}-again-${i}`, password: 'password-1', invite: invites[i] });
      // The winner's invite is used; each loser's registers another name.
      assert.equal(again.status, r.status === 201 ? 403 : 201, again.body);
    }
  }
});

test('an unauthenticated or unauthorised /metrics carries no metrics; an authorised one carries every registry', async () => {
  const reader = await (async () => {
    const token = await invite([]);
    assert.equal((await call('POST', '/register', undefined, { username: 'no-metrics', password: 'password-1', invite: token })).status, 201);
    return (await call('POST', '/login', undefined, { username: 'no-metrics', password: 'password-1' })).json().token as string;
  })();
  for (const [token, want] of [
    [undefined, 401],
    ['garbage', 401],
    [reader, 403],
  ] as const) {
    for (const url of ['/metrics', '/metrics/', '/m%65trics']) {
      const r = await call('GET', url, token);
      assert.equal(r.status, want, `${url}: ${r.body}`);
      assert.ok(!r.body.includes('skyshift_test_extra_total') && !r.body.includes('# HELP'), `${url} answered ${want} with metrics`);
    }
  }
  const ok = await call('GET', '/metrics', admin);
  assert.equal(ok.status, 200);
  for (const name of ['skyshift_http_requests_total', 'skyshift_login_attempts_total', 'skyshift_test_extra_total']) assert.ok(ok.body.includes(name), name);
});
