import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../client/core.js';
import { buildTable, clusterReplicaState, formatAge, formatClusterResources, formatRequests, printColumns, renderNames, renderTable } from './index.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

test('formatAge uses the largest whole unit', () => {
  assert.equal(formatAge(ago(5), NOW), '5s');
  assert.equal(formatAge(ago(59), NOW), '59s');
  assert.equal(formatAge(ago(3 * 60 + 59), NOW), '3m');
  assert.equal(formatAge(ago(2 * 3600 + 100), NOW), '2h');
  assert.equal(formatAge(ago(4 * 86400 + 3600), NOW), '4d');
  assert.equal(formatAge(ago(-30), NOW), '0s', 'clock skew never shows a negative age');
  assert.equal(formatAge(undefined, NOW), '<unknown>');
});

test('printColumns: upper-case headers, three-space gaps, no trailing spaces', () => {
  const text = printColumns(
    ['NAME', 'STATUS', 'AGE'],
    [
      ['hello', 'RUNNING', '5s'],
      ['a-much-longer-name', '', '3m'],
    ],
  );
  assert.equal(text, 'NAME                 STATUS    AGE\n' + 'hello                RUNNING   5s\n' + 'a-much-longer-name             3m\n');
});

test('cluster resources: allocatable/capacity summed over nodes, zero capacity skipped', () => {
  const capacity = { n1: { cpus: 2, memory: 4096, gpus: 2 }, n2: { cpus: 2, memory: 4096, disk: 0 } };
  const allocatable = { n1: { cpus: 1, memory: 2048, gpus: 0 }, n2: { cpus: 2, memory: 4096 } };
  assert.equal(formatClusterResources(allocatable, capacity), 'cpus: 3/4, memory: 6Gi/8Gi, gpus: 0/2');
  assert.equal(formatClusterResources({}, {}), '<none>');
  assert.equal(formatRequests({ cpus: 1, memory: 512, gpus: 0, T4: 1 }), 'cpus: 1, memory: 512Mi, T4: 1');
});

const cluster: ApiObject = {
  kind: 'Cluster',
  metadata: { name: 'gpu-a', creationTimestamp: ago(120), labels: { site: 'lab' } },
  spec: { manager: 'local', config: {} },
  status: {
    phase: 'READY',
    capacity: { n1: { cpus: 4, memory: 8192, gpus: 2 } },
    allocatable: { n1: { cpus: 3, memory: 6144, gpus: 0 } },
  },
};

test('clusters table has the reference columns; -o wide adds NODES and MESSAGE', () => {
  const opts = { format: 'table' as const, kind: 'Cluster', singular: 'cluster', withNamespace: false, color: false, now: NOW };
  assert.equal(
    renderTable([cluster], opts).text,
    'NAME    MANAGER   LABELS     RESOURCES                               STATUS   AGE\n' +
      'gpu-a   local     site=lab   cpus: 3/4, memory: 6Gi/8Gi, gpus: 0/2   READY    2m\n',
  );
  assert.deepEqual(renderTable([cluster], { ...opts, format: 'wide' }).headers.slice(-2), ['NODES', 'MESSAGE']);
});

test('jobs: one row per cluster; an unplaced job shows 0/N and its phase', () => {
  const placed: ApiObject = {
    kind: 'Job',
    metadata: { name: 'train', namespace: 'ml', creationTimestamp: ago(7200) },
    spec: { replicas: 3, resources: { cpus: 1, memory: 512 }, image: 'ubuntu:22.04', run: 'echo hi' },
    status: { phase: 'ACTIVE', replicaStatus: { b: { RUNNING: 1, PENDING: 1 }, a: { COMPLETED: 1 } } },
  };
  const pending: ApiObject = {
    kind: 'Job',
    metadata: { name: 'big', namespace: 'ml', creationTimestamp: ago(30) },
    spec: { replicas: 2, resources: { cpus: 64 } },
    status: { phase: 'PENDING' },
  };
  const table = buildTable('Job', [placed, pending], { wide: false, withNamespace: true, now: NOW });
  assert.deepEqual(table.headers, ['NAME', 'CLUSTER', 'REPLICAS', 'RESOURCES', 'NAMESPACE', 'STATUS', 'AGE'], 'NAMESPACE is not duplicated with -A');
  assert.deepEqual(table.rows, [
    ['train', 'a', '1/1', 'cpus: 1, memory: 512Mi', 'ml', 'COMPLETED', '2h'],
    ['train', 'b', '1/2', 'cpus: 1, memory: 512Mi', 'ml', 'RUNNING', '2h'],
    ['big', '', '0/2', 'cpus: 64', 'ml', 'PENDING', '30s'],
  ]);
  const wide = buildTable('Job', [placed], { wide: true, withNamespace: false, now: NOW });
  assert.deepEqual(wide.headers.slice(-2), ['IMAGE', 'RUN']);
  assert.deepEqual(wide.rows[0]?.slice(-2), ['ubuntu:22.04', 'echo hi']);
});

test('per-cluster replica state follows the reference rules', () => {
  assert.equal(clusterReplicaState({ FAILED: 1, PENDING: 1 }).status, 'FAILED');
  assert.equal(clusterReplicaState({ EVICTED: 2 }).status, 'EVICTED');
  assert.equal(clusterReplicaState({ PENDING: 2 }).status, 'PENDING');
  assert.equal(clusterReplicaState({ RUNNING: 1, COMPLETED: 1 }).status, 'RUNNING');
  assert.equal(clusterReplicaState({ COMPLETED: 2 }).status, 'COMPLETED');
});

test('events table and -A namespace prefix for kinds without a NAMESPACE column', () => {
  const ev: ApiObject = {
    kind: 'Event',
    metadata: { name: 'e1', namespace: 'default', creationTimestamp: ago(600) },
    spec: { involvedObject: { kind: 'Job', name: 'hello' }, reason: 'Scheduled', message: 'placed on gpu-a', type: 'Normal', lastTimestamp: ago(10) },
    status: {},
  };
  const t = buildTable('Event', [ev], { wide: false, withNamespace: true, now: NOW });
  assert.equal(
    printColumns(t.headers, t.rows),
    'NAMESPACE   LAST SEEN   TYPE     REASON      OBJECT      MESSAGE\n' + 'default     10s         Normal   Scheduled   job/hello   placed on gpu-a\n',
  );
});

test('-o name prints kind/name', () => {
  assert.equal(renderNames([cluster], 'cluster'), 'cluster/gpu-a\n');
});

test('colour is applied only when asked and never shifts the columns', () => {
  const opts = { format: 'table' as const, kind: 'Cluster', singular: 'cluster', withNamespace: false, color: true, now: NOW };
  const coloured = renderTable([cluster], opts).text;
  // styleText follows the environment; strip escape codes and compare with the plain table.
  const plain = renderTable([cluster], { ...opts, color: false }).text;
  assert.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ''), plain);
});
