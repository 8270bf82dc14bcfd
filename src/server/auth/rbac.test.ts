import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allows, covers, type RoleView } from './rbac.js';
import { Throttle } from './throttle.js';

const roles: RoleView[] = [
  { name: 'admin-role', spec: { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['*'] }], users: ['admin'] } },
  { name: 'reader-role', spec: { namespaces: ['*'], rules: [{ resources: ['*'], actions: ['get', 'list', 'watch'] }], users: ['r'] } },
  { name: 'dev-role', spec: { namespaces: ['team-a'], rules: [{ resources: ['jobs'], actions: ['*'] }], users: ['d'] } },
];

test('namespace-scoped roles never reach global kinds or all-namespace lists', () => {
  assert.ok(allows(roles, 'd', { action: 'create', resource: 'jobs', namespace: 'team-a' }));
  assert.ok(!allows(roles, 'd', { action: 'create', resource: 'jobs', namespace: 'default' }));
  assert.ok(!allows(roles, 'd', { action: 'list', resource: 'jobs', namespace: undefined }));
  assert.ok(!allows(roles, 'd', { action: 'update', resource: 'jobs/status', namespace: 'team-a' }));
  assert.ok(allows(roles, 'r', { action: 'list', resource: 'jobs', namespace: undefined }));
  assert.ok(!allows(roles, 'r', { action: 'create', resource: 'jobs', namespace: 'team-a' }));
  assert.ok(!allows(roles, 'nobody', { action: 'get', resource: 'jobs', namespace: 'team-a' }));
});

test('covers: nobody grants more than they hold', () => {
  const dev = roles[2]!;
  const admin = roles[0]!;
  assert.ok(covers(roles, 'admin', dev));
  assert.ok(covers(roles, 'd', dev), 'holding the role covers it');
  assert.ok(!covers(roles, 'r', dev), 'readers cannot grant writes');
  assert.ok(!covers(roles, 'd', admin));
  assert.ok(!covers(roles, 'r', { name: 'x', spec: { namespaces: ['*'], rules: [{ resources: ['jobs'], actions: ['*'] }], users: [] } }), "'*' needs '*'");
});

test('throttle: free attempts, then a doubling lockout, forgotten after a quiet period', () => {
  let now = 0;
  const t = new Throttle({ free: 2, baseSeconds: 1, maxSeconds: 4, forgetSeconds: 60, maxEntries: 2 }, () => new Date(now));
  t.reserve('u');
  t.reserve('u');
  assert.equal(t.retryAfter('u'), 0);
  t.reserve('u');
  assert.equal(t.retryAfter('u'), 1);
  t.reserve('u');
  assert.equal(t.retryAfter('u'), 2);
  t.reserve('u');
  t.reserve('u');
  assert.equal(t.retryAfter('u'), 4, 'capped');
  now += 61_000;
  assert.equal(t.retryAfter('u'), 0);
  for (let i = 0; i < 3; i++) t.reserve('a');
  assert.equal(t.retryAfter('a'), 1);
  t.reserve('b');
  t.reserve('c');
  assert.equal(t.retryAfter('a'), 0, 'bounded memory: the oldest key is dropped');
});

test('throttle: a success forgets the key, a refund gives back one attempt and the lockout it started', () => {
  const t = new Throttle({ free: 2, baseSeconds: 1, maxSeconds: 4, forgetSeconds: 60, maxEntries: 10 }, () => new Date(0));
  for (let i = 0; i < 3; i++) t.reserve('u');
  assert.equal(t.retryAfter('u'), 1);
  t.succeed('u');
  assert.equal(t.retryAfter('u'), 0);
  for (let i = 0; i < 3; i++) t.reserve('a');
  assert.equal(t.retryAfter('a'), 1);
  t.refund('a');
  assert.equal(t.retryAfter('a'), 0, 'back at the free count');
  t.reserve('a');
  assert.equal(t.retryAfter('a'), 1, 'the other attempts still count');
});
