/**
 * docs/agents.md stays true: its systemd unit passes `systemd-analyze verify`
 * (and a broken copy does not, so the check can fail), and every flag it lists
 * for `skyshift agent` is one `skyshift agent --help` knows.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT, SKYSHIFT_BIN } from '../infra/server.js';

const doc = readFileSync(join(REPO_ROOT, 'docs/agents.md'), 'utf8');
const unit = /```ini\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('docs/agents.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Verify `text` as skyshift-agent.service, its ExecStart binary replaced by a stub that exists here. */
  const verify = (text: string) => {
    const stub = join(dir, 'skyshift');
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
    const file = join(dir, 'skyshift-agent.service');
    writeFileSync(file, text.replace('/usr/local/bin/skyshift', stub));
    return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  };

  test('the systemd unit passes systemd-analyze verify; a broken one does not', { skip: hasAnalyze ? false : 'systemd-analyze is not installed' }, () => {
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/skyshift agent /m);
    assert.match(unit, /^KillMode=process$/m, 'replicas must survive an agent restart');
    const good = verify(unit);
    assert.equal(good.status, 0, good.stderr + good.stdout);
    assert.equal(good.stderr.trim(), '', good.stderr);
    const broken = verify(unit.replace(/^ExecStart=.*$/m, 'ExecStart=relative/skyshift agent'));
    assert.notEqual(broken.status === 0 && broken.stderr.trim() === '', true, 'a relative ExecStart must be reported');
  });

  test('every flag the docs list for skyshift agent exists', () => {
    const listed = /Agent flags:([\s\S]*?)\n\n/.exec(doc)?.[1] ?? '';
    const flags = [...new Set(listed.match(/--[a-z][a-z-]+/g) ?? [])];
    assert.ok(flags.length >= 8, `flags found in docs: ${flags.join(' ')}`);
    const help = execFileSync(process.execPath, ['--import', 'tsx', SKYSHIFT_BIN, 'agent', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    const missing = flags.filter((f) => !help.includes(f));
    assert.deepEqual(missing, [], `documented but unknown to skyshift agent --help: ${missing.join(' ')}\n${help}`);
  });
});
