import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReservedNamespace, kindForPlural, KINDS, resolveKind, storageKey } from './kinds.js';

test('every kind of DESIGN section 3 is registered', () => {
  assert.deepEqual(
    KINDS.map((k) => [k.kind, k.plural, k.namespaced]),
    [
      ['Cluster', 'clusters', false],
      ['Namespace', 'namespaces', false],
      ['Job', 'jobs', true],
      ['FilterPolicy', 'filterpolicies', true],
      ['Service', 'services', true],
      ['Endpoints', 'endpoints', true],
      ['Link', 'links', false],
      ['Event', 'events', true],
      ['Lease', 'leases', false],
      ['Role', 'roles', false],
      ['User', 'users', false],
    ],
  );
  for (const k of KINDS) assert.equal(k.listKind, `${k.kind}List`);
});

test('resolveKind accepts plural, singular, kind and short names, any case', () => {
  const table: [string, string][] = [
    ['jobs', 'Job'],
    ['job', 'Job'],
    ['Job', 'Job'],
    ['fp', 'FilterPolicy'],
    ['filterPolicy', 'FilterPolicy'],
    ['svc', 'Service'],
    ['ep', 'Endpoints'],
    ['ev', 'Event'],
    ['ns', 'Namespace'],
    ['CLUSTERS', 'Cluster'],
    ['lease', 'Lease'],
  ];
  for (const [name, kind] of table) assert.equal(resolveKind(name)?.kind, kind, name);
  assert.equal(resolveKind('pods'), undefined);
  assert.equal(kindForPlural('jobs')?.kind, 'Job');
  assert.equal(kindForPlural('job'), undefined);
});

test('storage keys end prefixes in /', () => {
  const job = resolveKind('job');
  const cluster = resolveKind('cluster');
  assert.ok(job && cluster);
  assert.equal(storageKey(job, 'default', 'hello'), '/registry/jobs/default/hello');
  assert.equal(storageKey(job, 'default'), '/registry/jobs/default/');
  assert.equal(storageKey(job, undefined), '/registry/jobs/');
  assert.equal(storageKey(cluster, undefined, 'gpu-a'), '/registry/clusters/gpu-a');
  assert.equal(storageKey(cluster, 'ignored'), '/registry/clusters/');
});

test('namespaces named like a plural are reserved', () => {
  assert.equal(isReservedNamespace('clusters'), true);
  assert.equal(isReservedNamespace('jobs'), true);
  assert.equal(isReservedNamespace('team'), false);
});
