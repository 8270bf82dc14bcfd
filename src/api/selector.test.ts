import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { formatLabelSelector, matchesLabels, parseLabelSelector, selectorFromMap } from './selector.js';

test('parses every operator', () => {
  assert.deepEqual(parseLabelSelector('a=b, c==d ,e!=f,g in (x, y),h notin (z),i,!j'), [
    { key: 'a', operator: 'Equals', values: ['b'] },
    { key: 'c', operator: 'Equals', values: ['d'] },
    { key: 'e', operator: 'NotEquals', values: ['f'] },
    { key: 'g', operator: 'In', values: ['x', 'y'] },
    { key: 'h', operator: 'NotIn', values: ['z'] },
    { key: 'i', operator: 'Exists', values: [] },
    { key: 'j', operator: 'DoesNotExist', values: [] },
  ]);
});

test('empty text is the empty selector', () => {
  assert.deepEqual(parseLabelSelector(''), []);
  assert.deepEqual(parseLabelSelector('   '), []);
});

test('keys may carry a DNS prefix; values may be empty', () => {
  assert.deepEqual(parseLabelSelector('example.com/tier = gpu, a='), [
    { key: 'example.com/tier', operator: 'Equals', values: ['gpu'] },
    { key: 'a', operator: 'Equals', values: [''] },
  ]);
  assert.deepEqual(parseLabelSelector('! example.com/x'), [{ key: 'example.com/x', operator: 'DoesNotExist', values: [] }]);
});

const bad: [string, string][] = [
  ['a in (x', `invalid label selector "a in (x": missing ')'`],
  ['a in x)', `invalid label selector "a in x)": unexpected ')' at position 7`],
  ['a,,b', `invalid label selector "a,,b": empty requirement`],
  ['=b', `invalid label selector "=b": missing label key`],
  ['a b', `invalid label selector "a b": "a b": expected an operator (=, ==, !=, in, notin)`],
  ['a in ()', `invalid label selector "a in ()": "a in ()": empty value list`],
  ['a=b=c', `invalid label selector "a=b=c": "a=b=c": unexpected operator in value`],
  ['-a=b', `invalid label selector "-a=b": invalid label key "-a"`],
  ['a=b c', `invalid label selector "a=b c": invalid label value "b c"`],
  ['a in (x,(y))', `invalid label selector "a in (x,(y))": nested '(' at position 9`],
  ['a notin', `invalid label selector "a notin": "a notin": expected a value list like (x,y)`],
];
for (const [text, message] of bad) {
  test(`rejects ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseLabelSelector(text),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.reason, 'BadRequest');
        assert.equal(err.message, message);
        return true;
      },
    );
  });
}

test('matches with Kubernetes semantics', () => {
  const labels = { env: 'prod', tier: 'gpu' };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', undefined, true],
    ['env=prod', labels, true],
    ['env=dev', labels, false],
    ['env!=dev', labels, true],
    ['missing!=x', labels, true],
    ['env!=prod', labels, false],
    ['tier in (gpu,cpu)', labels, true],
    ['tier in (cpu)', labels, false],
    ['missing in (x)', labels, false],
    ['tier notin (cpu)', labels, true],
    ['missing notin (x)', labels, true],
    ['tier notin (gpu)', labels, false],
    ['env', labels, true],
    ['missing', labels, false],
    ['!missing', labels, true],
    ['!env', labels, false],
    ['env=prod,tier=cpu', labels, false],
    ['env=prod', undefined, false],
  ];
  for (const [text, l, expected] of cases) assert.equal(matchesLabels(parseLabelSelector(text), l), expected, text);
});

test('format round-trips', () => {
  const text = 'a=b,c!=d,e in (x,y),f notin (z),g,!h';
  assert.equal(formatLabelSelector(parseLabelSelector(text)), text);
  assert.equal(formatLabelSelector(parseLabelSelector('a==b')), 'a=b');
});

test('selectorFromMap requires every entry', () => {
  const s = selectorFromMap({ a: '1', b: '2' });
  assert.equal(matchesLabels(s, { a: '1', b: '2', c: '3' }), true);
  assert.equal(matchesLabels(s, { a: '1' }), false);
});
