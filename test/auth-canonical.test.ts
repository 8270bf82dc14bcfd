/**
 * Authorisation decides on the canonical route (issue 8, finding 3): every
 * spelling of a protected path (trailing slash, percent-encoding, case,
 * double slash, dot segments) reaches the same decision or is rejected, the
 * role guard covers every write of a role, and deleting a user by any
 * spelling removes its credentials and memberships. Against a real
 * `skyshift server` with auth on; paths are sent byte for byte (node:http,
 * which, unlike fetch, does not normalise them).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from './infra/server.js';

let server: TestServer;
let admin = '';
let mallory = '';
/** Every status any request in this file got: none may be 5xx. */
const statuses: string[] = [];

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  json(): Record<string, any>;
}

/** One request with `path` exactly as given; `from`: the client's loopback address (the throttle keys on it). */
function raw(method: string, path: string, token?: string, body?: unknown, contentType = 'application/json', from?: string): Promise<Answer> {
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (data !== undefined) {
    headers['content-type'] = contentType;
    headers['content-length'] = String(Buffer.byteLength(data));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers, ...(from ? { localAddress: from } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        statuses.push(`${res.statusCode} ${method} ${path}`);
        resolve({ status: res.statusCode ?? 0, text, headers: res.headers, json: () => JSON.parse(text) as Record<string, any> });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function register(name: string, roles: string[], password = `pw-of-${name}-1`): Promise<string> {
  const invite = await raw('POST', '/invites', admin, { roles });
  assert.equal(invite.status, 201, invite.text);
  const reg = await raw('POST', '/register', undefined, { username: name, password, invite: invite.json().token });
  assert.equal(reg.status, 201, reg.text);
  const login = await raw('POST', '/login', undefined, { username: name, password });
  assert.equal(login.status, 200, login.text);
  return login.json().token as string;
}

const STRONG = { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['*'] }] };

before(async () => {
  server = await startServer({ auth: true });
  const password = readFileSync(join(server.dir, '.skyshift', 'admin-password'), 'utf8').trim();
  const login = await raw('POST', '/login', undefined, { username: 'admin', password });
  assert.equal(login.status, 200, login.text);
  admin = login.json().token as string;
  // Mallory may write roles (the grant that made the escalation possible), and nothing else.
  const writer = await raw('POST', '/roles', admin, {
    metadata: { name: 'role-writer' },
    spec: { namespaces: ['*'], rules: [{ resources: ['roles'], actions: ['get', 'list', 'create', 'update', 'patch', 'delete'] }] },
  });
  assert.equal(writer.status, 201, writer.text);
  // A role mallory does not hold and whose grant (reading jobs) mallory lacks.
  const strong = await raw('POST', '/roles', admin, {
    metadata: { name: 'strong' },
    spec: { namespaces: ['*'], rules: [{ resources: ['jobs'], actions: ['get'] }] },
  });
  assert.equal(strong.status, 201, strong.text);
  mallory = await register('mallory', ['role-writer']);
});

after(async () => {
  await server?.stop();
});

/** Spellings of `path` (which starts with /roles or /users) a client might send. */
function spellings(path: string): string[] {
  const [, plural, ...rest] = path.split('/');
  const tail = rest.length > 0 ? `/${rest.join('/')}` : '';
  const encoded = `/${plural!.slice(0, 1)}%${plural!.charCodeAt(1).toString(16)}${plural!.slice(2)}${tail}`;
  return [
    path,
    `${path}/`,
    encoded,
    `${encoded}/`,
    `/${plural!.toUpperCase()}${tail}`,
    `/${plural!.replace(/^./, (c) => c.toUpperCase())}${tail}`,
    `/${plural}%2F${rest.join('/')}`,
    `/${plural}%2f${rest.join('/')}`,
    `/${plural}%5C${rest.join('/')}`,
    `//${plural}${tail}`,
    `/${plural}/${tail ? `${tail}/` : '/'}`,
    `/./${plural}${tail}`,
    `/${plural}/.${tail}`,
    `/${plural}/..${tail}`,
    `/x/../${plural}${tail}`,
    `/%2e/${plural}${tail}`,
    `${path}?x=1`,
    `${path}/?x=1`,
    `${path}%00`,
    `${path}%`,
    `${path}#f`,
    `/${plural}${tail.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
  ];
}

async function rolesOf(token: string): Promise<string[]> {
  const who = await raw('GET', '/whoami', token);
  assert.equal(who.status, 200, who.text);
  return who.json().roles as string[];
}

test('no spelling of a role write lets a role writer grant itself more than it holds', async () => {
  const attempts: string[] = [];
  let n = 0;
  const tried = async (method: string, path: string, body: unknown, type = 'application/json') => {
    const r = await raw(method, path, mallory, body, type);
    attempts.push(`${r.status} ${method} ${path}`);
    assert.ok(r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
    assert.ok([400, 403, 404, 405, 409, 415].includes(r.status), `${method} ${path} was not refused: ${r.status} ${r.text}`);
  };
  for (const path of spellings('/roles')) {
    await tried('POST', path, { metadata: { name: `esc-${n++}` }, spec: { ...STRONG, users: ['mallory'] } });
    await tried(
      'POST',
      path,
      `metadata: {name: esc-${n++}}\nspec: {namespaces: ['*'], rules: [{resources: ['*'], actions: ['*']}], users: [mallory]}\n`,
      'application/yaml',
    );
  }
  for (const victim of ['strong', 'admin-role', 'role-writer']) {
    for (const path of spellings(`/roles/${victim}`)) {
      await tried('PUT', path, { metadata: { name: victim }, spec: { ...STRONG, users: ['mallory', 'admin'] } });
      await tried('PATCH', path, { spec: { ...STRONG, users: ['mallory', 'admin'] } }, 'application/merge-patch+json');
      // Joining a role mallory already holds changes nothing; joining the others is the escalation.
      if (victim !== 'role-writer') await tried('PATCH', path, [{ op: 'add', path: '/spec/users/-', value: 'mallory' }], 'application/json-patch+json');
      await tried('PATCH', path, [{ op: 'replace', path: '/spec/rules', value: STRONG.rules }], 'application/json-patch+json');
      if (victim !== 'role-writer') await tried('DELETE', path, undefined);
    }
  }
  assert.deepEqual(await rolesOf(mallory), ['role-writer']);
  assert.equal((await raw('GET', '/clusters', mallory)).status, 403, 'mallory must not read clusters');
  const adminRole = (await raw('GET', '/roles/admin-role', admin)).json();
  assert.deepEqual(adminRole.spec.users, ['admin']);
  const strong = (await raw('GET', '/roles/strong', admin)).json();
  assert.deepEqual([strong.spec.rules, strong.spec.users], [[{ resources: ['jobs'], actions: ['get'] }], []]);
  const roles = (await raw('GET', '/roles', admin)).json().items.map((r: any) => r.metadata.name);
  assert.ok(!roles.some((r: string) => r.startsWith('esc-')), `a role was created: ${roles.join(', ')}`);
  if (process.env.DUMP) console.log(attempts.join('\n'));
  assert.ok(attempts.length > 100);
});

test('a role writer may still write, patch and delete roles within what it holds', async () => {
  const spec = { namespaces: ['*'], rules: [{ resources: ['roles'], actions: ['get'] }] };
  for (const path of ['/roles', '/roles/', '/r%6Fles']) {
    const name = `mine-${statuses.length}`;
    const r = await raw('POST', path, mallory, { metadata: { name }, spec });
    assert.equal(r.status, 201, `${path}: ${r.text}`);
    const p = await raw('PATCH', `${path.replace(/\/$/, '')}/${name}/`, mallory, { spec: { users: ['mallory'] } }, 'application/merge-patch+json');
    assert.equal(p.status, 200, p.text);
    // Widening it past what mallory holds is refused, however it is spelled.
    const w = await raw(
      'PATCH',
      `${path.replace(/\/$/, '')}/${name}`,
      mallory,
      [{ op: 'add', path: '/spec/rules/0/resources/-', value: 'jobs' }],
      'application/json-patch+json',
    );
    assert.equal(w.status, 403, w.text);
    const d = await raw('DELETE', `${path.replace(/\/$/, '')}/${name}/`, mallory);
    assert.equal(d.status, 200, d.text);
  }
});

test('no spelling of a user route skips the guard or the cleanup', async () => {
  for (const path of spellings('/users/admin')) {
    const r = await raw('DELETE', path, mallory);
    assert.ok([400, 403, 404].includes(r.status), `DELETE ${path}: ${r.status} ${r.text}`);
  }
  assert.equal((await raw('GET', '/users/admin', admin)).status, 200);
  // Deleted with a trailing slash (or any spelling): memberships and credentials go too.
  for (const [i, path] of ['/users/victim-0/', '/user%73/victim-1', '/users/victim-2', '/users/v%69ctim-3/'].entries()) {
    const name = `victim-${i}`;
    await register(name, ['reader-role']);
    const d = await raw('DELETE', path, admin);
    assert.equal(d.status, 200, `${path}: ${d.text}`);
    const reader = (await raw('GET', '/roles/reader-role', admin)).json();
    assert.ok(!reader.spec.users.includes(name), `${path} left ${name} in reader-role`);
    const login = await raw('POST', '/login', undefined, { username: name, password: `pw-of-${name}-1` });
    assert.equal(login.status, 401, `${path}: the deleted user's credential still works`);
    // A later user of the same name starts with nothing.
    const again = await register(name, [], 'another-pw-1');
    assert.deepEqual(await rolesOf(again), []);
  }
});

test('account and operational routes answer the same for every spelling', async () => {
  // Open routes are open only under their canonical name (or an equivalent spelling): nothing else skips the token.
  for (const path of ['/healthz', '/healthz/', '/h%65althz', '/version', '/openapi.json']) {
    assert.equal((await raw('GET', path)).status, 200, path);
  }
  for (const path of ['/HEALTHZ', '//healthz', '/healthz/x', '/metrics', '/m%65trics', '/metrics/', '/whoami', '/wh%6Fami', '/jobs', '/j%6Fbs']) {
    assert.equal((await raw('GET', path)).status, 401, path);
  }
  // Metrics need the grant under every spelling.
  for (const path of ['/metrics', '/metrics/', '/m%65trics', '/metrics?x=1']) {
    const r = await raw('GET', path, mallory);
    assert.equal(r.status, 403, `${path}: ${r.text.slice(0, 80)}`);
    assert.ok(!r.text.includes('skyshift_'), `${path} leaked metrics`);
  }
  assert.equal((await raw('GET', '/m%65trics', admin)).status, 200);
  for (const path of ['/whoami', '/whoami/', '/wh%6Fami']) {
    const r = await raw('GET', path, mallory);
    assert.equal(r.status, 200, path);
    assert.equal(r.json().user, 'mallory');
  }
  assert.equal((await raw('HEAD', '/healthz')).status, 200);
  assert.equal((await raw('POST', '/healthz')).status, 401, 'only GET and HEAD of a probe are open');
  assert.equal((await raw('POST', '/healthz', mallory)).status, 405);
  assert.equal((await raw('GET', '/login')).status, 401, 'only POST of /login is open');
  assert.equal((await raw('GET', '/login', mallory)).status, 405);
  assert.equal((await raw('POST', '/invites/', mallory, { roles: [] })).status, 403);
  assert.equal((await raw('POST', '/inv%69tes', mallory, { roles: [] })).status, 403);
});

test('/login and /register take JSON only', async () => {
  const yaml = 'username: mallory\npassword: pw-of-mallory-1\n';
  for (const type of ['application/yaml', 'text/yaml', 'application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded']) {
    for (const path of ['/login', '/register']) {
      const r = await raw('POST', path, undefined, yaml, type);
      assert.equal(r.status, 415, `${path} ${type}: ${r.status} ${r.text}`);
      assert.equal(r.json().reason, 'UnsupportedMediaType');
    }
  }
  assert.equal((await raw('POST', '/login', undefined, { username: 'mallory', password: 'pw-of-mallory-1' })).status, 200);
});

/** Password checks the server made for logins so far (its own counter, on /metrics). */
async function verifications(): Promise<number> {
  const text = (await raw('GET', '/metrics', admin)).text;
  const line = /^skyshift_login_verifications_total (\d+)$/m.exec(text);
  assert.ok(line, 'no verification counter on /metrics');
  return Number(line[1]);
}

test('200 parallel wrong logins for one user get at most the free attempts checked; the rest 429 with Retry-After', async () => {
  await register('target', []);
  const before = await verifications();
  // From an address of their own, so the per-address count of the other tests does not interfere.
  const tries = await Promise.all(
    Array.from({ length: 200 }, () => raw('POST', '/login', undefined, { username: 'target', password: 'wrong-guess' }, 'application/json', '127.0.0.2')),
  );
  const checked = (await verifications()) - before;
  const counts = new Map<number, number>();
  for (const t of tries) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  console.log(`one user, 200 parallel wrong logins: ${checked} password checks, answers ${JSON.stringify(Object.fromEntries(counts))}`);
  assert.ok(checked <= 4, `${checked} password checks for 3 free attempts`);
  assert.equal(counts.get(401), checked);
  assert.equal(counts.get(429), 200 - checked);
  for (const t of tries.filter((x) => x.status === 429)) assert.ok(Number(t.headers['retry-after']) >= 1);
  // The right password is refused during the lockout too: no check happens at all.
  const locked = await raw('POST', '/login', undefined, { username: 'target', password: 'pw-of-target-1' }, 'application/json', '127.0.0.4');
  assert.equal(locked.status, 429);
});

test('200 parallel wrong logins from one address for different users get at most the address allowance checked', async () => {
  const before = await verifications();
  const tries = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      raw('POST', '/login', undefined, { username: `guess-${i}`, password: 'wrong-guess' }, 'application/json', '127.0.0.3'),
    ),
  );
  const checked = (await verifications()) - before;
  console.log(`one address, 200 parallel wrong logins: ${checked} password checks`);
  assert.ok(checked <= 16, `${checked} password checks for an address allowance of 15`);
  assert.equal(tries.filter((t) => t.status === 429).length, 200 - checked);
  // Another address is not affected.
  assert.equal((await raw('POST', '/login', undefined, { username: 'mallory', password: 'pw-of-mallory-1' }, 'application/json', '127.0.0.5')).status, 200);
});

test('no request in this file got a 5xx', () => {
  const faults = statuses.filter((s) => s.startsWith('5'));
  assert.deepEqual(faults, []);
});
