import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { DISPLAY_NAME_ANNOTATION, displayName, isDnsLabel, normalizeClusterName, validateName } from './names.js';

test('isDnsLabel', () => {
  for (const ok of ['a', 'a-b', 'a1', '1a', 'x'.repeat(63)]) assert.equal(isDnsLabel(ok), true, ok);
  for (const bad of ['', 'A', '-a', 'a-', 'a_b', 'a.b', 'x'.repeat(64), 'a b']) assert.equal(isDnsLabel(bad), false, bad);
});

test('validateName messages', () => {
  assert.equal(validateName('ok-name'), undefined);
  assert.equal(validateName(''), 'must not be empty');
  assert.equal(validateName(3), 'must be a string');
  assert.equal(validateName('x'.repeat(64)), 'must be no more than 63 characters (got 64)');
  assert.equal(validateName('Bad_Name'), 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit (e.g. "my-name")');
});

test('normalizeClusterName mapping', () => {
  const table: [string, string][] = [
    ['gpu-a', 'gpu-a'],
    ['kind-My Cluster', 'kind-my-cluster'],
    ['kind_My Cluster', 'kind-my-cluster'],
    ['gke_proj_us-central1_c1', 'gke-proj-us-central1-c1'],
    ['arn:aws:eks:us-west-2:123:cluster/prod', 'arn-aws-eks-us-west-2-123-cluster-prod'],
    ['admin@prod', 'admin-prod'],
    ['  -Weird--Name- ', 'weird-name'],
    ['UPPER', 'upper'],
  ];
  for (const [raw, name] of table) assert.equal(normalizeClusterName(raw), name, raw);
});

test('long names are cut and get a hash of the raw name', () => {
  const a = normalizeClusterName(`${'Long_'.repeat(20)}A`);
  const b = normalizeClusterName(`${'Long_'.repeat(20)}B`);
  assert.equal(a.length, 63);
  assert.ok(isDnsLabel(a));
  assert.ok(isDnsLabel(b));
  assert.notEqual(a, b);
  assert.match(a, /^long-long-.*-[0-9a-f]{6}$/);
  assert.equal(normalizeClusterName(`${'Long_'.repeat(20)}A`), a, 'deterministic');
});

test('a name without letters or digits is rejected', () => {
  assert.throws(
    () => normalizeClusterName('@@'),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.reason, 'BadRequest');
      assert.equal(err.message, 'invalid cluster name "@@": must contain a letter or digit');
      return true;
    },
  );
});

test('displayName prefers the annotation', () => {
  assert.equal(displayName({ metadata: { name: 'kind-my-cluster', annotations: { [DISPLAY_NAME_ANNOTATION]: 'kind_My Cluster' } } }), 'kind_My Cluster');
  assert.equal(displayName({ metadata: { name: 'plain' } }), 'plain');
});
