import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseManifests, readManifests } from './manifests.js';
import { isSubset } from './commands/apply.js';

test('multi-document YAML: empty documents skipped, Lists expanded', () => {
  const text = `---
kind: Job
metadata: {name: a}
spec: {run: echo a}
---
---
kind: JobList
items:
  - {kind: Job, metadata: {name: b}}
  - {kind: Job, metadata: {name: c}}
`;
  assert.deepEqual(
    parseManifests(text, 'x.yaml').map((m) => (m.object.metadata as { name: string }).name),
    ['a', 'b', 'c'],
  );
});

test('YAML syntax errors are reported as file:line:col: message', () => {
  const text = 'kind: Job\nmetadata:\n  name: a\n  labels: {x: y\n';
  assert.throws(
    () => parseManifests(text, 'bad.yaml'),
    (err: Error) => {
      assert.match(err.message, /^bad\.yaml:\d+:\d+: \S/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    },
  );
});

test('documents without kind or name are rejected with their position', () => {
  assert.throws(() => parseManifests('kind: Job\nmetadata: {}\n', 'j.yaml'), /j\.yaml: document 1 \(Job\) has no metadata\.name/);
  assert.throws(() => parseManifests('metadata: {name: a}\n', 'j.yaml'), /document 1 has no kind/);
});

test('a directory yields every .yaml/.yml/.json in name order; - reads stdin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyctl-manifests-'));
  writeFileSync(join(dir, 'b.yml'), 'kind: Job\nmetadata: {name: b}\n');
  writeFileSync(join(dir, 'a.json'), '{"kind": "Namespace", "metadata": {"name": "a"}}');
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
  const fromDir = await readManifests([dir], Readable.from([]));
  assert.deepEqual(
    fromDir.map((m) => m.object.kind),
    ['Namespace', 'Job'],
  );
  const fromStdin = await readManifests(['-'], Readable.from(['kind: Link\nmetadata: {name: l}\n']));
  assert.equal(fromStdin[0]?.source, '<stdin>');
  await assert.rejects(readManifests([join(dir, 'missing.yaml')], Readable.from([])), /does not exist/);
});

test('isSubset compares manifest fields (snake_case too) against the stored object', () => {
  const stored = { run: 'echo', restartPolicy: 'Never', resources: { cpus: 1, memory: 512 }, envs: {} };
  assert.equal(isSubset({ run: 'echo', restart_policy: 'Never' }, stored), true);
  assert.equal(isSubset({ run: 'echo hi' }, stored), false);
  assert.equal(isSubset({ resources: { cpus: 2 } }, stored), false);
});
