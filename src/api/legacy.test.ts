/** Manifests written for the original (Python) SkyShift: its spellings map to ours, its ignored fields warn. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { ApiError } from './errors.js';
import { backoffLimitOf, shouldRestart } from './job-rules.js';
import { resolveKind } from './kinds.js';
import { normalizeObject } from './normalize.js';
import type { Job } from './kinds/job.js';

const ORIGINAL_JOB = `
kind: Job
metadata:
  name: train-py
  manager_type: k8
  labels:
    app: train
spec:
  image: ubuntu:22.04
  run: echo "lr $LEARNING_RATE"
  replicas: 2
  primary_cluster: gpu-a
  backoff_limit: 2
  restart_policy: OnFailure
  env:
    LEARNING_RATE: '0.01'
  resources:
    cpus: 1
    memory: 256
`;

function normalize(kind: string, text: string) {
  const warnings: string[] = [];
  const info = resolveKind(kind);
  assert.ok(info);
  const obj = normalizeObject(info, YAML.parse(text), { warn: (w) => warnings.push(w) });
  return { obj, warnings };
}

test('a job manifest of the original SkyShift: env -> envs, backoff_limit -> backoffLimit, primary_cluster and manager_type ignored with warnings', () => {
  const { obj, warnings } = normalize('jobs', ORIGINAL_JOB);
  const spec = obj.spec as Job['spec'];
  assert.deepEqual(spec.envs, { LEARNING_RATE: '0.01' });
  assert.equal(spec.backoffLimit, 2);
  assert.equal('primaryCluster' in spec || 'primary_cluster' in spec || 'env' in spec, false);
  assert.equal('manager_type' in obj.metadata, false);
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /spec\.primary_cluster is ignored/);
  assert.match(warnings.join('\n'), /metadata\.manager_type is ignored/);
});

test('a cluster manifest with metadata.manager_type is accepted with a warning', () => {
  const { obj, warnings } = normalize('clusters', 'kind: Cluster\nmetadata:\n  name: edge-py\n  manager_type: local\nspec:\n  manager: local\n');
  assert.equal(obj.metadata.name, 'edge-py');
  assert.deepEqual(warnings.length, 1);
});

test('env and envs together are rejected, not merged', () => {
  assert.throws(
    () => normalize('jobs', 'metadata: {name: x}\nspec:\n  env: {A: "1"}\n  envs: {B: "2"}\n'),
    (err: unknown) => err instanceof ApiError && err.details?.causes?.some((c) => c.field === 'spec.env') === true,
  );
});

test('backoffLimit bounds restarts under OnFailure (default 6); 0 fails on the first failure', () => {
  const job = (backoffLimit: number | undefined, restarts: number) =>
    ({
      spec: { restartPolicy: 'OnFailure', ...(backoffLimit === undefined ? {} : { backoffLimit }) },
      status: { restarts: { '0': restarts } },
    }) as unknown as Job;
  assert.equal(backoffLimitOf(job(undefined, 0)), 6);
  assert.equal(shouldRestart(job(2, 1), 0, 'FAILED'), true);
  assert.equal(shouldRestart(job(2, 2), 0, 'FAILED'), false);
  assert.equal(shouldRestart(job(0, 0), 0, 'FAILED'), false);
  assert.equal(shouldRestart(job(undefined, 5), 0, 'FAILED'), true);
});
