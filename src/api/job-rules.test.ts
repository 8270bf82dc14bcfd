import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyEviction,
  derivePhase,
  deriveReplicaStatus,
  finishStatus,
  needsScheduling,
  setCondition,
  tasksObservedAt,
  unfinishedPlacements,
  unplacedRanks,
} from './job-rules.js';
import type { Job, JobSpec, JobStatus } from './kinds/job.js';

/** A stored job as the API returns it (defaults filled in), with the given status fields. */
function job(status: Partial<JobStatus> & { phase?: string }, spec: Partial<JobSpec> = {}): Job {
  return {
    kind: 'Job',
    metadata: { name: 'j', namespace: 'default', uid: 'u1', labels: {}, annotations: {} },
    spec: {
      run: 'x',
      envs: {},
      ports: [],
      replicas: 2,
      resources: { cpus: 1 },
      restartPolicy: 'Never',
      placement: { filters: [], preferences: [] },
      priority: 0,
      volumes: {},
      ...spec,
    },
    status: { conditions: [], replicaStatus: {}, jobIds: {}, taskStatus: {}, ...status, phase: (status.phase ?? 'INIT') as JobStatus['phase'] },
  };
}

test('COMPLETED only when every rank is placed and completed', () => {
  assert.equal(derivePhase(job({ phase: 'ACTIVE', placements: { a: [0, 1] }, taskStatus: { a: { 'j-0': 'COMPLETED', 'j-1': 'RUNNING' } } })), 'ACTIVE');
  assert.equal(
    derivePhase(job({ phase: 'ACTIVE', placements: { a: [0], b: [1] }, taskStatus: { a: { 'j-0': 'COMPLETED' }, b: { 'j-1': 'COMPLETED' } } })),
    'COMPLETED',
  );
  // rank 1 evicted and not yet placed again: not complete even though all placed ranks are
  assert.equal(derivePhase(job({ phase: 'ACTIVE', placements: { a: [0] }, taskStatus: { a: { 'j-0': 'COMPLETED' } } })), 'ACTIVE');
});

test('a FAILED replica fails the job only with restartPolicy Never', () => {
  const status = { phase: 'ACTIVE', placements: { a: [0, 1] }, taskStatus: { a: { 'j-0': 'FAILED', 'j-1': 'RUNNING' } } };
  assert.equal(derivePhase(job(structuredClone(status))), 'FAILED');
  assert.equal(derivePhase(job(structuredClone(status), { restartPolicy: 'OnFailure' })), 'ACTIVE');
  const done = { phase: 'ACTIVE', placements: { a: [0, 1] }, taskStatus: { a: { 'j-0': 'COMPLETED', 'j-1': 'COMPLETED' } } };
  assert.equal(derivePhase(job(done, { restartPolicy: 'Always' })), 'ACTIVE', 'Always never completes');
});

test('terminal and unplaced phases are left alone', () => {
  assert.equal(derivePhase(job({ phase: 'COMPLETED', placements: { a: [0] }, taskStatus: { a: { 'j-0': 'FAILED' } } })), undefined);
  assert.equal(derivePhase(job({ phase: 'PENDING' })), undefined);
});

test('eviction removes ranks from the placement, drops their tasks and counts them EVICTED', () => {
  const j = job({ phase: 'ACTIVE', placements: { a: [0, 1] }, taskStatus: { a: { 'j-0': 'RUNNING', 'j-1': 'COMPLETED' } }, replicaStatus: {} });
  assert.deepEqual(unfinishedPlacements(j), { a: [0] });
  assert.equal(applyEviction(j.status, 'a', [0]), 1);
  assert.equal(applyEviction(j.status, 'a', [0]), 0, 'idempotent');
  finishStatus(j);
  assert.deepEqual(j.status.placements, { a: [1] });
  assert.deepEqual(j.status.taskStatus, { a: { 'j-1': 'COMPLETED' } });
  assert.deepEqual(j.status.replicaStatus, { a: { EVICTED: 1, COMPLETED: 1 } });
  assert.deepEqual(unplacedRanks(j), [0]);
  assert.equal(j.status.phase, 'ACTIVE');
});

test('replicaStatus counts placed ranks without a task as PENDING', () => {
  const j = job({ phase: 'ACTIVE', placements: { a: [0], b: [1] }, taskStatus: { a: { 'j-0': 'RUNNING' } } });
  assert.deepEqual(deriveReplicaStatus(j), { a: { RUNNING: 1 }, b: { PENDING: 1 } });
});

test('setCondition keeps lastTransitionTime while the status does not flip', () => {
  const c1 = setCondition([], { type: 'Scheduled', status: 'False', message: 'a' }, 't1');
  const c2 = setCondition(c1, { type: 'Scheduled', status: 'False', message: 'b' }, 't2');
  assert.equal(c2[0]?.lastTransitionTime, 't1');
  assert.equal(c2[0]?.message, 'b');
  const c3 = setCondition(c2, { type: 'Scheduled', status: 'True' }, 't3');
  assert.equal(c3.length, 1);
  assert.equal(c3[0]?.lastTransitionTime, 't3');
});

test('OnFailure restarts a failed replica up to MAX_RESTARTS times, then the job fails', async () => {
  const { MAX_RESTARTS, shouldRestart } = await import('./job-rules.js');
  const status = { phase: 'ACTIVE', placements: { a: [0] }, taskStatus: { a: { 'j-0': 'FAILED' } }, restarts: { '0': MAX_RESTARTS - 1 } };
  const j = job(structuredClone(status), { replicas: 1, restartPolicy: 'OnFailure' });
  assert.equal(shouldRestart(j, 0, 'FAILED'), true);
  assert.equal(derivePhase(j), 'ACTIVE');
  j.status.restarts = { '0': MAX_RESTARTS };
  assert.equal(shouldRestart(j, 0, 'FAILED'), false);
  assert.equal(derivePhase(j), 'FAILED');
  const always = job(structuredClone(status), { replicas: 1, restartPolicy: 'Always' });
  always.status.restarts = { '0': 100 };
  assert.equal(shouldRestart(always, 0, 'COMPLETED'), true);
  assert.equal(shouldRestart(job(structuredClone(status), { replicas: 1 }), 0, 'FAILED'), false);
});

test('needsScheduling: new jobs and ACTIVE jobs with unplaced ranks', () => {
  assert.equal(needsScheduling(job({ phase: 'PENDING' })), true);
  assert.equal(needsScheduling(job({ phase: 'ACTIVE', placements: { a: [0, 1] } })), false);
  assert.equal(needsScheduling(job({ phase: 'ACTIVE', placements: { a: [0] } })), true);
  assert.equal(needsScheduling(job({ phase: 'COMPLETED' })), false);
});

test('tasksObservedAt reads the snapshot time of one cluster (milliseconds kept)', () => {
  const j = job({ phase: 'ACTIVE', tasksObservedAt: { a: '2026-11-22T10:00:00.123Z' } });
  assert.equal(tasksObservedAt(j, 'a'), Date.parse('2026-11-22T10:00:00.123Z'));
  assert.equal(tasksObservedAt(j, 'b'), undefined);
});
