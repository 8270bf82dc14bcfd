/**
 * test/infra/netns.ts: hosts in network namespaces reach each other over the
 * bridge, a cut cable drops their traffic and a restored one carries it again,
 * and everything is removed by name: by destroy(), by the reaper when the test
 * process is killed with SIGKILL, by the sweep of a dead run's leftovers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNetnsLab, netnsUnavailable, overlaps, sweepNetns, type NetnsLab } from './infra/netns.js';
import { waitFor } from './infra/ports.js';
import { REPO_ROOT } from './infra/server.js';

const skip = netnsUnavailable();
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

const ECHO = `require('net').createServer((s) => s.pipe(s)).listen(7000, process.argv[1], () => console.log('listening'))`;
const CLIENT = `const s = require('net').connect(7000, process.argv[1]); s.setTimeout(1500, () => { console.log('timeout'); process.exit(3); });
s.on('error', (e) => { console.log(e.code); process.exit(2); }); s.end('hello over the bridge'); let got = ''; s.on('data', (d) => (got += d)); s.on('end', () => console.log(got));`;

/** Echo through the operator's leg (the test process itself). */
function echoFromHere(host: string, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(7000, host);
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? 'error');
    });
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.end('ping');
  });
}

describe('netns lab', { skip, timeout: 60_000 }, () => {
  let lab: NetnsLab;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyshift-netns-'));
    lab = createNetnsLab({ hosts: ['cp', 'a1', 'a2'] });
    const echo = lab.spawn('cp', process.execPath, ['-e', ECHO, lab.host('cp').ip], { logFile: join(dir, 'echo.log') });
    await waitFor('echo server', () => lab.pids('cp').includes(echo.pid) && echoFromHere(lab.host('cp').ip).then((r) => r === 'ping'), 10_000, 100);
  });
  after(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('names carry the run prefix, fit IFNAMSIZ, and the subnet is private and unused', () => {
    assert.match(lab.prefix, /^skn[0-9a-z]+$/);
    for (const h of lab.hosts.values()) {
      assert.ok(h.ns.startsWith(lab.prefix + '-'), h.ns);
      assert.ok(h.dev.length <= 15 && h.switchDev.length <= 15, `${h.dev} ${h.switchDev}`);
      assert.ok(overlaps('10.0.0.0/8', `${h.ip}/32`), h.ip);
    }
    assert.ok(namespaces().includes(lab.host('a1').ns));
    // The hosts are separate: a1 has no address of cp's, and 127.0.0.1 there is its own loopback.
    const addrs = execFileSync('ip', ['-n', lab.host('a1').ns, '-4', '-o', 'addr'], { encoding: 'utf8' });
    assert.ok(addrs.includes(lab.host('a1').ip) && !addrs.includes(lab.host('cp').ip), addrs);
  });

  test('TCP between namespaces, a cut cable drops it, a restored one carries it again', async () => {
    const cpIp = lab.host('cp').ip;
    const before = await lab.run('a1', process.execPath, ['-e', CLIENT, cpIp], { timeoutMs: 10_000 });
    assert.equal(before.stdout.trim(), 'hello over the bridge', before.stderr);
    // Not reachable on a1's own loopback: the echo server is on another host.
    const local = await lab.run('a1', process.execPath, ['-e', CLIENT, '127.0.0.1'], { timeoutMs: 10_000 });
    assert.equal(local.stdout.trim(), 'ECONNREFUSED');

    lab.cut('a1');
    try {
      const during = await lab.run('a1', process.execPath, ['-e', CLIENT, cpIp], { timeoutMs: 10_000 });
      assert.notEqual(during.stdout.trim(), 'hello over the bridge', 'a cut host must not reach cp');
      assert.equal(during.code === 2 || during.code === 3, true, `client should fail, got ${during.code}: ${during.stdout}`);
      // The other hosts and the operator still reach cp.
      const other = await lab.run('a2', process.execPath, ['-e', CLIENT, cpIp], { timeoutMs: 10_000 });
      assert.equal(other.stdout.trim(), 'hello over the bridge');
    } finally {
      lab.restore('a1');
    }
    await waitFor(
      'a1 reaches cp again',
      async () => (await lab.run('a1', process.execPath, ['-e', CLIENT, cpIp], { timeoutMs: 10_000 })).stdout.trim() === 'hello over the bridge',
      10_000,
      200,
    );
  });

  test("hide: a process sees another host's directory empty and read-only; nobody else is affected", async () => {
    const secret = join(dir, 'a1-disk');
    mkdirSync(secret);
    writeFileSync(join(secret, 'f'), 'private\n');
    const out = join(dir, 'hide.out');
    const script = `const fs = require('fs'); let w = 'no'; try { fs.writeFileSync(process.argv[1] + '/x', '1'); w = 'yes'; } catch {} fs.writeFileSync(process.argv[2], JSON.stringify({ list: fs.readdirSync(process.argv[1]), wrote: w }));`;
    const d = lab.spawn('cp', process.execPath, ['-e', script, secret, out], { logFile: join(dir, 'hide.log'), hide: [secret] });
    await waitFor('hidden-dir probe done', () => d.child.exitCode !== null, 10_000);
    assert.equal(d.child.exitCode, 0, readFileSync(join(dir, 'hide.log'), 'utf8'));
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { list: [], wrote: 'no' });
    assert.equal(readFileSync(join(secret, 'f'), 'utf8'), 'private\n', 'the directory itself is untouched, and visible to us');
  });

  test('destroy kills what runs inside and deletes every namespace by name', async () => {
    const extra = createNetnsLab({ hosts: ['x'], operator: false });
    const sleeper = spawn('ip', ['netns', 'exec', extra.host('x').ns, 'sleep', '300'], { stdio: 'ignore', detached: true });
    await waitFor('sleeper inside', () => extra.pids('x').length > 0, 5000);
    assert.ok(namespaces().includes(extra.host('x').ns));
    await extra.destroy();
    assert.ok(!namespaces().includes(extra.prefix), namespaces());
    await waitFor('sleeper killed', () => sleeper.exitCode !== null || sleeper.signalCode !== null, 5000);
  });
});

describe('netns cleanup when the test process dies', { skip, timeout: 60_000 }, () => {
  test('a test process killed with SIGKILL leaves nothing behind (the reaper removes it)', async () => {
    const code = `import { createNetnsLab } from './test/infra/netns.ts';
      const lab = createNetnsLab({ hosts: ['h'] }); console.log(lab.prefix); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT });
    let prefix = '';
    child.stdout.on('data', (d: Buffer) => (prefix += d.toString()));
    await waitFor('child lab', () => prefix.trim().length > 0 && namespaces().includes(prefix.trim()), 30_000, 100);
    const linkBefore = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    assert.ok(linkBefore.includes(`${prefix.trim()}op`), 'the operator leg exists in our namespace');
    child.kill('SIGKILL');
    await waitFor(
      'namespaces and links removed',
      () => !namespaces().includes(prefix.trim()) && !execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(prefix.trim()),
      10_000,
      100,
    );
  });

  test('sweepNetns removes what a dead run left behind, and nothing of a live run', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const deadPid = dead.pid ?? 0;
    const stale = `skn${deadPid.toString(36)}zzz-old`;
    const live = `skn${process.pid.toString(36)}zzz-live`;
    execFileSync('ip', ['netns', 'add', stale]);
    execFileSync('ip', ['netns', 'add', live]);
    try {
      const removed = sweepNetns();
      assert.ok(removed.includes(stale), `swept ${removed.join(', ')}`);
      assert.ok(!namespaces().includes(stale));
      assert.ok(namespaces().includes(live), 'a namespace of a running process stays');
    } finally {
      for (const ns of [stale, live]) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {
          /* removed */
        }
      }
    }
  });
});
