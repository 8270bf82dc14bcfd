/** The pure parts of label/annotate, wait and explain (the commands themselves: test/cli-verbs.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveKind, type KindInfo } from '../../client/index.js';
import { UsageError } from '../runtime.js';
import { explain, typeName } from './explain.js';
import { metaPatch, parseChanges } from './label.js';
import { check, parseDuration, parseFor } from './wait.js';

test('label changes: KEY=VALUE sets, KEY- removes, anything else is a usage error', () => {
  assert.deepEqual(parseChanges(['a=1', 'b=', 'c-'], 'label'), { set: { a: '1', b: '' }, remove: ['c'] });
  assert.throws(() => parseChanges(['a'], 'label'), UsageError);
  assert.throws(() => parseChanges([], 'label'), UsageError);
});

test('metaPatch refuses to change a value without --overwrite, allows an equal one, nulls removed keys', () => {
  const change = parseChanges(['a=2', 'b-', 'zz-'], 'label');
  assert.match(String(metaPatch({ a: '1', b: 'x' }, change, false, 'label')), /'a' already has a value \(1\)/);
  assert.deepEqual(metaPatch({ a: '1', b: 'x' }, change, true, 'label'), { patch: { a: '2', b: null }, notFound: ['label "zz" not found.'] });
  assert.deepEqual(metaPatch({ a: '2' }, parseChanges(['a=2'], 'label'), false, 'label'), { patch: {}, notFound: [] });
});

test('wait: --for and --timeout parsing, and the verdict on an object', () => {
  assert.deepEqual(parseFor('phase=COMPLETED'), { type: 'phase', value: 'COMPLETED' });
  assert.deepEqual(parseFor('condition=Scheduled'), { type: 'condition', name: 'Scheduled', status: 'True' });
  assert.deepEqual(parseFor('condition=Scheduled=False'), { type: 'condition', name: 'Scheduled', status: 'False' });
  assert.deepEqual(parseFor('delete'), { type: 'delete' });
  assert.throws(() => parseFor('phase'), UsageError);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('15'), 15_000);
  assert.throws(() => parseDuration('soon'), UsageError);
  const job = (status: unknown) => ({ kind: 'Job', metadata: { name: 'x' }, spec: {}, status }) as never;
  assert.equal(check(job({ phase: 'ACTIVE' }), parseFor('phase=completed')), false);
  assert.equal(check(job({ phase: 'COMPLETED' }), parseFor('phase=completed')), true);
  assert.match(String(check(job({ phase: 'FAILED' }), parseFor('phase=COMPLETED'))), /FAILED, which is final/);
  assert.equal(check(job({ conditions: [{ type: 'Scheduled', status: 'True' }] }), parseFor('condition=scheduled')), true);
  assert.equal(check(job({ conditions: [{ type: 'Scheduled', status: 'False' }] }), parseFor('condition=Scheduled')), false);
  assert.equal(check(undefined, parseFor('delete')), true);
  assert.equal(check(job({}), parseFor('delete')), false);
});

test('explain: type names and a nested field through arrays', () => {
  assert.equal(typeName({ type: 'array', items: { type: 'string' } }), '[]string');
  assert.equal(typeName({ type: 'object', patternProperties: { '^.*$': { type: 'number' } } }), 'map[string]number');
  const job = resolveKind('job') as KindInfo;
  const out = explain(job, ['spec', 'placement', 'filters', 'matchExpressions', 'operator']);
  assert.match(out, /FIELD: +spec\.placement\.filters\.matchExpressions\.operator <string>/);
  assert.match(out, /Allowed values: In, NotIn, Exists, DoesNotExist/);
  assert.throws(() => explain(job, ['spec', 'bogus']), /field "bogus" does not exist in job\.spec/);
});
