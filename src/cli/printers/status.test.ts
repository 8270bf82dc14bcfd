import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiObject } from '../../client/core.js';
import { activeJobs, renderStatus, statusSummary, totalCluster } from './index.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const cluster = (name: string, phase: string, age: number, nodes: Record<string, [number, number, number, number]>): ApiObject => ({
  kind: 'Cluster',
  metadata: { name, creationTimestamp: ago(age) },
  spec: { manager: 'local' },
  status: {
    phase,
    // [allocatable cpus, capacity cpus, allocatable MiB, capacity MiB]
    allocatable: Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, { cpus: r[0], memory: r[2] }])),
    capacity: Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, { cpus: r[1], memory: r[3] }])),
  },
});

const job = (name: string, ns: string, phase: string, age: number, replicaStatus?: Record<string, Record<string, number>>): ApiObject => ({
  kind: 'Job',
  metadata: { name, namespace: ns, creationTimestamp: ago(age) },
  spec: { replicas: 2, resources: { cpus: 1 } },
  status: { phase, ...(replicaStatus && { replicaStatus }) },
});

// Both clusters call their node "node-0": the total must count both.
const a = cluster('a', 'READY', 3 * 3600, { 'node-0': [2, 4, 2048, 4096] });
const b = cluster('b', 'READY', 120, { 'node-0': [1, 2, 1024, 1024] });
const down = cluster('down', 'ERROR', 60, { 'node-0': [8, 8, 8192, 8192] });
const jobs = [
  job('old', 'default', 'ACTIVE', 600, { a: { RUNNING: 2 } }),
  job('new', 'ml', 'PENDING', 10),
  job('done', 'default', 'COMPLETED', 5, { b: { COMPLETED: 2 } }),
  job('broken', 'default', 'FAILED', 5),
];

test('status: clusters, a TOTAL of READY clusters aligned with them, unfinished jobs newest first', () => {
  assert.equal(
    renderStatus([down, b, a], jobs, { color: false, now: NOW }),
    'Clusters\n' +
      'NAME    MANAGER    LABELS   RESOURCES                    STATUS   AGE\n' +
      'a       local      <none>   cpus: 2/4, memory: 2Gi/4Gi   READY    3h\n' +
      'b       local      <none>   cpus: 1/2, memory: 1Gi/1Gi   READY    2m\n' +
      'down    local      <none>   cpus: 8/8, memory: 8Gi/8Gi   ERROR    1m\n' +
      '=====================================================================\n' +
      'TOTAL   skyshift   <none>   cpus: 3/6, memory: 3Gi/5Gi   READY    3h\n' +
      '\n' +
      'Jobs\n' +
      'NAME   CLUSTER   REPLICAS   RESOURCES   NAMESPACE   STATUS    AGE\n' +
      'new              0/2        cpus: 1     ml          PENDING   10s\n' +
      'old    a         2/2        cpus: 1     default     RUNNING   10m\n',
  );
});

test('status with nothing: says so, and the TOTAL is ERROR without a READY cluster', () => {
  assert.equal(
    renderStatus([], [], { color: false, now: NOW }),
    'Clusters\nNAME    MANAGER    LABELS   RESOURCES   STATUS   AGE\nNo clusters found.\n' +
      '==========================================================\n' +
      'TOTAL   skyshift   <none>   <none>      ERROR    <unknown>\n\nJobs\nNo active jobs.\n',
  );
  assert.equal((totalCluster([down]).status as { phase: string }).phase, 'ERROR');
});

test('status colours headings and STATUS only when asked, without moving columns', () => {
  const plain = renderStatus([a, down], jobs, { color: false, now: NOW });
  const coloured = renderStatus([a, down], jobs, { color: true, now: NOW });
  assert.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ''), plain);
});

test('status -o summary: numbers, not strings; only unfinished jobs', () => {
  const s = statusSummary([a, b, down], jobs, NOW);
  assert.deepEqual(s.total, { clusters: 3, ready: 2, phase: 'READY', allocatable: { cpus: 3, memory: 3072 }, capacity: { cpus: 6, memory: 5120 } });
  assert.deepEqual(
    s.clusters.map((c) => [c.name, c.phase, c.capacity.cpus]),
    [
      ['a', 'READY', 4],
      ['b', 'READY', 2],
      ['down', 'ERROR', 8],
    ],
  );
  assert.deepEqual(
    s.jobs.map((j) => `${j.namespace}/${j.name}:${j.phase}`),
    ['ml/new:PENDING', 'default/old:ACTIVE'],
  );
  assert.deepEqual(activeJobs([job('i', 'x', 'INIT', 1)]).length, 1, 'INIT counts as unfinished');
});
