import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './runtime.js';
import { dryRunSuffix, jobNameArg, parseDryRun, parseObjectArgs } from './resource-args.js';

const plain = (args: string[]) => {
  const r = parseObjectArgs(args);
  return { kind: r.kind?.kind, refs: r.refs.map((x) => `${x.kind.kind}:${x.name}`) };
};

test('KIND NAME... and KIND/NAME... name the same objects', () => {
  assert.deepEqual(plain(['jobs']), { kind: 'Job', refs: [] });
  assert.deepEqual(plain(['job', 'a', 'b']), { kind: 'Job', refs: ['Job:a', 'Job:b'] });
  assert.deepEqual(plain(['job/a', 'jobs/b', 'cluster/edge']), { kind: undefined, refs: ['Job:a', 'Job:b', 'Cluster:edge'] });
  assert.deepEqual(plain([]), { kind: undefined, refs: [] });
});

test('mixed or malformed forms are usage errors', () => {
  assert.throws(() => parseObjectArgs(['job', 'job/a']), UsageError);
  assert.throws(() => parseObjectArgs(['job/a', 'b']), UsageError);
  assert.throws(() => parseObjectArgs(['job/']), UsageError);
  assert.throws(() => parseObjectArgs(['/a']), UsageError);
  assert.throws(() => parseObjectArgs(['nope/a']), /doesn't have a resource type "nope"/);
});

test('logs, exec and port-forward take JOB or job/JOB only, and say which verb', () => {
  assert.equal(jobNameArg('hello'), 'hello');
  assert.equal(jobNameArg('job/hello'), 'hello');
  assert.throws(() => jobNameArg('cluster/edge'), { name: 'Error', message: 'logs takes a job, not a Cluster: "cluster/edge"' });
  assert.throws(() => jobNameArg('cluster/x', 'exec'), /^Error: exec takes a job, not a Cluster: "cluster\/x"$/);
  assert.throws(() => jobNameArg('svc/x', 'port-forward'), UsageError);
});

test('--dry-run values', () => {
  assert.equal(parseDryRun(undefined), 'none');
  assert.equal(parseDryRun(true), 'client');
  assert.equal(parseDryRun('server'), 'server');
  assert.throws(() => parseDryRun('All'), UsageError);
  assert.equal(dryRunSuffix('server'), ' (server dry run)');
});
