/**
 * The Router is the one place a path becomes a target (DESIGN section 17):
 * every spelling of a path resolves to the same canonical target or is
 * rejected, for resources, account routes and operational routes alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, KINDS } from '../api/index.js';
import { Router, type Resolved } from './router.js';

const router = new Router(KINDS);

function canonical(r: Resolved): string {
  const parts: string[] = [r.type, r.route];
  if ('namespace' in r && r.namespace !== undefined) parts.push(`ns=${r.namespace}`);
  if ('name' in r) parts.push(`name=${r.name}`);
  if ('id' in r && r.id !== undefined) parts.push(`id=${r.id}`);
  return parts.join(' ');
}

function outcome(url: string): string {
  try {
    return canonical(router.resolve(url));
  } catch (err) {
    assert.ok(err instanceof ApiError, `${url} threw ${String(err)}`);
    assert.ok(err.code === 400 || err.code === 404, `${url}: ${err.code}`);
    return 'rejected';
  }
}

test('equivalent spellings resolve to the same target; the others are rejected', () => {
  const same: Record<string, string[]> = {
    '/roles': ['/roles/', '/r%6Fles', '/r%6fles/', '/%72%6F%6C%65%73', '/roles?x=1', '/roles/?watch=true'],
    '/roles/x': ['/roles/x/', '/r%6Fles/x', '/roles/%78', '/roles/%78/?a=b'],
    '/users/x': ['/users/x/', '/user%73/x', '/users/%78/'],
    '/default/jobs/j': ['/default/jobs/j/', '/d%65fault/jobs/j', '/default/j%6Fbs/%6A'],
    '/default/jobs/j/status': ['/default/jobs/j/status/', '/default/jobs/j/%73tatus'],
    '/login': ['/login/', '/l%6Fgin', '/login?x'],
    '/invites/abc': ['/invites/abc/', '/%69nvites/abc'],
    '/metrics': ['/metrics/', '/m%65trics', '/metrics?x=1'],
    '/healthz': ['/healthz/', '/h%65althz'],
  };
  for (const [path, spellings] of Object.entries(same)) {
    const want = outcome(path);
    assert.notEqual(want, 'rejected', path);
    for (const s of spellings) assert.equal(outcome(s), want, s);
  }
  const rejected = [
    '//roles',
    '/roles//',
    '/roles//x',
    '/./roles',
    '/roles/.',
    '/roles/..',
    '/x/../roles',
    '/%2e/roles',
    '/roles/%2e%2e',
    '/roles%2Fx',
    '/roles%2fx',
    '/roles%5Cx',
    '/roles\\x',
    '/roles/x%00',
    '/roles/%',
    '/roles/%zz',
    '/login/x',
    '/healthz/x',
    '/metrics/x',
    '/whoami/x',
    '/invites/a/b',
    '/ui',
    '/api/v1',
    '/',
    '',
    '/roles/x/y',
    '/users/x/status/y',
    '/default/jobs/j/logs/x',
    '/clusters/c/logs',
  ];
  for (const path of rejected) assert.equal(outcome(path), 'rejected', path);
});

test('upper case never reaches a route: a plural is lower case, and an upper-case first segment is a namespace that cannot exist', () => {
  for (const path of ['/ROLES', '/Roles', '/LOGIN', '/METRICS', '/ROLES/admin-role', '/USERS/admin']) assert.equal(outcome(path), 'rejected', path);
  // "/Default/jobs" names namespace "Default": a target the gate decides on as such (namespace names are lower case, so it holds nothing).
  assert.equal(outcome('/Default/jobs'), 'collection /{namespace}/jobs ns=Default');
});
