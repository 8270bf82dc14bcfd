import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { replicaDetail } from './details.js';

test('a local replica reports its start (record.json), exit code (exitcode file) and finish (its mtime)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skyshift-detail-'));
  try {
    assert.equal(await replicaDetail(dir, 'PENDING'), undefined);
    await writeFile(join(dir, 'record.json'), JSON.stringify({ startedAt: '2026-01-02T03:04:05.000Z' }));
    assert.deepEqual(await replicaDetail(dir, 'RUNNING'), { startedAt: '2026-01-02T03:04:05.000Z' });
    await writeFile(join(dir, 'exitcode'), '3\n');
    const d = await replicaDetail(dir, 'FAILED');
    assert.equal(d?.exitCode, 3);
    assert.equal(d?.startedAt, '2026-01-02T03:04:05.000Z');
    assert.ok(Date.now() - Date.parse(d?.finishedAt ?? '') < 60_000, 'finishedAt is the exitcode file time');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
