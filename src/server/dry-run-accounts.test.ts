/** `?dryRun=All` never acts for real on the account routes: refused there, and a user's dry-run DELETE deletes nothing. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, type Store } from '../store/index.js';
import { createApiServer, type ApiServer } from './app.js';
import { createAuth } from './auth/index.js';

let server: ApiServer;
let store: Store;
let admin = '';
let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skyshift-dryrun-'));
  store = await openStore('memory:');
  const auth = await createAuth({ store, dataDir: dir });
  server = createApiServer({ store, auth });
  await server.ready();
  admin = await auth.adminToken(3600);
});

after(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const res = await server.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.body };
}

test('account routes refuse dryRun; a dry-run DELETE of a user leaves the user', async () => {
  const inv = await call('POST', '/invites?dryRun=All', { roles: [] });
  assert.equal(inv.status, 400, inv.body);
  assert.match(inv.body, /dryRun is not supported/);
  const users = await call('GET', '/users');
  assert.equal(users.status, 200, users.body);
  const first = (JSON.parse(users.body) as { items: { metadata: { name: string } }[] }).items[0];
  assert.ok(first, 'the admin user exists');
  const del = await call('DELETE', `/users/${first.metadata.name}?dryRun=All`);
  assert.equal(del.status, 200, del.body);
  assert.equal((await call('GET', `/users/${first.metadata.name}`)).status, 200);
});
