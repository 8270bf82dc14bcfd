/** The docs runner's reading of Markdown (test/support/doc-blocks.ts): which blocks run, which are skipped and why, output shapes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDoc, sameShape } from './support/doc-blocks.js';

const FENCE = '```';

test('shell blocks run in order; a not-run marker right above a block skips it with its reason; other languages are not run', () => {
  const doc = [
    '<!-- skyshift-up: --no-local-cluster --local-cpus 2 -->',
    `${FENCE}sh`,
    'skyctl get clusters',
    FENCE,
    '<!-- not-run: needs a Kubernetes cluster -->',
    '',
    `${FENCE}bash`,
    'kubectl get pods',
    FENCE,
    '<!-- not-run: stale -->',
    'A paragraph ends a marker.',
    `${FENCE}console`,
    'skyctl status',
    FENCE,
    `${FENCE}yaml`,
    'kind: Job',
    FENCE,
  ].join('\n');
  const { blocks, upArgs } = parseDoc('x.md', doc);
  assert.deepEqual(upArgs, ['--no-local-cluster', '--local-cpus', '2']);
  assert.deepEqual(
    blocks.map((b) => [b.line, b.code, b.skip]),
    [
      [2, 'skyctl get clusters', undefined],
      [7, 'kubectl get pods', 'needs a Kubernetes cluster'],
      [12, 'skyctl status', undefined],
    ],
  );
});

test('an output-of marker makes a text block an output check; a bare text block is nothing', () => {
  const doc = ['<!-- output-of: skyctl get jobs -->', FENCE, 'NAME  AGE', 'a     1s', FENCE, `${FENCE}text`, 'just text', FENCE].join('\n');
  assert.deepEqual(parseDoc('y.md', doc).blocks, [{ file: 'y.md', line: 2, code: 'NAME  AGE\na     1s', outputOf: 'skyctl get jobs' }]);
});

test('same shape: header, row count and every cell but AGE, rows in any order', () => {
  const documented = 'NAME    CLUSTER   STATUS      AGE\nhello   edge      COMPLETED   7s\nhello   edge2     COMPLETED   7s\n';
  assert.equal(sameShape(documented, 'NAME    CLUSTER   STATUS      AGE\nhello   edge2     COMPLETED   3m\nhello   edge      COMPLETED   1s\n'), undefined);
  assert.match(
    sameShape(documented, 'NAME    CLUSTER   STATUS      AGE\nhello   edge      RUNNING     7s\nhello   edge2     COMPLETED   7s\n') ?? '',
    /RUNNING/,
  );
  assert.match(sameShape(documented, 'NAME    CLUSTER   STATUS      AGE\nhello   laptop    COMPLETED   7s\n') ?? '', /1 rows, documented 2/);
  assert.match(sameShape(documented, 'NAME    STATUS      AGE\n') ?? '', /header/);
});
