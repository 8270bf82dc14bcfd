/**
 * Integration tests of the local manager with real processes in temporary
 * workdirs. Every process a test starts is killed in `after` (by the process
 * groups recorded on disk), so nothing is left running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../src/api/index.js';
import { createManager, LocalManager } from '../src/managers/index.js';
import { testJob } from './support/jobs.js';
import { collect, killRecordedProcessGroups, ref, taskWaiters, tasksOf } from './support/manager-tasks.js';

const workdirs: string[] = [];
const extraPids: number[] = [];

/**
 * A temp dir the replicas can reach: as root they run as an unprivileged user,
 * who may enter a workdir (0711) and write into a markers dir (0777).
 */
async function tempDir(prefix = 'skyshift-local-', mode = 0o711): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, mode);
  workdirs.push(dir);
  return dir;
}

function job(
  name: string,
  run: string,
  opts: { replicas?: number; envs?: Record<string, string>; resources?: Record<string, number>; image?: string; uid?: string } = {},
): Job {
  return testJob(
    name,
    { run, envs: opts.envs ?? {}, replicas: opts.replicas ?? 1, resources: opts.resources ?? { cpus: 1 }, ...(opts.image ? { image: opts.image } : {}) },
    opts.uid ? { uid: opts.uid } : {},
  );
}

const ranks = (n: number) => Array.from({ length: n }, (_, i) => i);
const { waitFor, allDone } = taskWaiters(15_000);

/** process.kill(pid, 0), except that an unreaped zombie counts as gone: it runs nothing and only its parent can reap it. */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

after(async () => {
  // Kill every process group recorded in any workdir, then remove the dirs.
  await killRecordedProcessGroups(workdirs);
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const dir of workdirs) await rm(dir, { recursive: true, force: true });
});

describe('LocalManager (real processes)', () => {
  it('runs 3 replicas with their env in their own dirs; COMPLETED/FAILED by exit code', async () => {
    const workdir = await tempDir();
    const m = new LocalManager({ name: 'laptop', workdir });
    await m.connect();
    const j = job(
      'hello',
      'echo "replica=$SKYSHIFT_REPLICA rank=$POD_RANK of=$SKYSHIFT_REPLICAS job=$SKYSHIFT_JOB foo=$FOO dir=$(pwd)"; exit $(( POD_RANK == 2 ? 3 : 0 ))',
      {
        replicas: 3,
        envs: { FOO: 'bar baz' },
      },
    );
    const id = await m.submit(j, { ranks: ranks(3) });
    assert.equal(id, `default_hello_${j.metadata.uid}`);
    const states = await allDone(m, j);
    assert.deepEqual(states, { 'hello-0': 'COMPLETED', 'hello-1': 'COMPLETED', 'hello-2': 'FAILED' });
    const t = await tasksOf(m, j);
    assert.deepEqual(t?.ranks, { 'hello-0': 0, 'hello-1': 1, 'hello-2': 2 });
    assert.equal(t?.jobId, id);
    const lines = await collect(m.logs(ref(j), {}));
    for (const r of ranks(3)) {
      const dir = join(workdir, 'jobs', id, String(r));
      assert.ok(
        lines.includes(`replica=${r} rank=${r} of=3 job=default/hello foo=bar baz dir=${join(dir, 'work')}`),
        `line of rank ${r} in ${JSON.stringify(lines)}`,
      );
      assert.equal((await readFile(join(dir, 'exitcode'), 'utf8')).trim(), r === 2 ? '3' : '0');
    }
    const one = await collect(m.logs(ref(j), { task: 'hello-1' }));
    assert.equal(one.length, 1);
    assert.match(one[0] ?? '', /^replica=1 /);
    await assert.rejects(collect(m.logs(ref(j), { task: 'hello-7' })), /task 'hello-7' of job 'default\/hello' not found on cluster 'laptop'/);
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
    await assert.rejects(stat(join(workdir, 'jobs', id)), /ENOENT/);
  });

  it('reports capacity and allocatable minus running replicas', async () => {
    const workdir = await tempDir();
    const host = new LocalManager({ name: 'host', workdir });
    const hs = await host.status();
    assert.equal(hs.phase, 'READY');
    assert.equal(hs.runtime, 'none');
    assert.equal(hs.capacity.host?.cpus, cpus().length);
    assert.ok((hs.capacity.host?.memory ?? 0) > 0);

    const m = new LocalManager({ name: 'box', workdir, cpus: 4, memory: 2048, killGraceMs: 500 });
    const j = job('cap', 'sleep 30', { replicas: 2, resources: { cpus: 1.5, memory: 256, gpus: 1 } });
    await m.submit(j, { ranks: [0, 1] });
    await waitFor('replicas running', async () => Object.values((await tasksOf(m, j))?.tasks ?? {}).every((s) => s === 'RUNNING'));
    const st = await m.status();
    assert.deepEqual(st.capacity, { box: { cpus: 4, memory: 2048 } });
    assert.deepEqual(st.allocatable, { box: { cpus: 1, memory: 1536 } });
    await m.cancel(ref(j), [1]);
    assert.deepEqual((await m.status()).allocatable, { box: { cpus: 2.5, memory: 1792 } });
    await m.cancel(ref(j));
    assert.deepEqual((await m.status()).allocatable, { box: { cpus: 4, memory: 2048 } });
  });

  it('createManager accepts the quantities skyctl stores (--memory 2Gi) and rejects bad ones naming the cluster', async () => {
    const workdir = await tempDir();
    const m = createManager({ metadata: { name: 'edge' }, spec: { manager: 'local', config: { workdir, cpus: '1500m', memory: '2Gi' } } });
    assert.deepEqual((await m.status()).capacity, { edge: { cpus: 1.5, memory: 2048 } });
    assert.throws(
      () => createManager({ metadata: { name: 'edge' }, spec: { manager: 'local', config: { memory: 'lots' } } }),
      /cluster 'edge': config\.memory: must be a number of MiB or a quantity like 512Mi/,
    );
    assert.throws(
      () => createManager({ metadata: { name: 'edge' }, spec: { manager: 'local', config: { podmanRoot: 7 } } }),
      /cluster 'edge': config\.podmanRoot: must be a string/,
    );
  });

  it('starts each replica once, however often and however concurrently submit is called', async () => {
    const workdir = await tempDir();
    const markers = join(await tempDir('skyshift-markers-', 0o777), 'starts');
    const a = new LocalManager({ name: 'dup', workdir });
    const b = new LocalManager({ name: 'dup', workdir }); // a second SkyShift on the same host
    const j = job('dup', 'echo "start $POD_RANK" >> "$MARKERS"; sleep 0.3', { replicas: 3, envs: { MARKERS: markers } });
    const share = { ranks: ranks(3) };
    const ids = await Promise.all([a.submit(j, share), a.submit(j, share), b.submit(j, share), b.submit(j, { ranks: [2] })]);
    assert.equal(new Set(ids).size, 1);
    await allDone(a, j);
    await a.submit(j, share); // after completion: still no restart
    await sleep(300);
    const starts = (await readFile(markers, 'utf8')).trim().split('\n').sort();
    assert.deepEqual(starts, ['start 0', 'start 1', 'start 2']);
    assert.deepEqual(await allDone(b, j), { 'dup-0': 'COMPLETED', 'dup-1': 'COMPLETED', 'dup-2': 'COMPLETED' });
  });

  it('replicas outlive the SkyShift process that started them and are adopted by a new one', async () => {
    const workdir = await tempDir();
    const markers = join(await tempDir('skyshift-markers-', 0o777), 'starts');
    const j = job('adopt', 'echo "start $POD_RANK" >> "$MARKERS"; sleep 2; echo finished; exit $POD_RANK', { replicas: 2, envs: { MARKERS: markers } });
    // A separate node process plays the SkyShift that submits and then exits.
    const indexUrl = new URL('../src/managers/index.ts', import.meta.url).href;
    const script = `import { LocalManager } from ${JSON.stringify(indexUrl)};
      const m = new LocalManager({ name: 'adopt', workdir: ${JSON.stringify(workdir)} });
      await m.submit(${JSON.stringify(j)}, { ranks: [0, 1] });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (child.pid) extraPids.push(child.pid);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    assert.equal(code, 0, stderr);

    const m = new LocalManager({ name: 'adopt', workdir });
    const t = await tasksOf(m, j);
    assert.deepEqual(t?.tasks, { 'adopt-0': 'RUNNING', 'adopt-1': 'RUNNING' });
    await m.submit(j, { ranks: [0, 1] }); // the restarted flow resubmits: must adopt, not restart
    assert.deepEqual(await allDone(m, j), { 'adopt-0': 'COMPLETED', 'adopt-1': 'FAILED' });
    const lines = await collect(m.logs(ref(j), { task: 'adopt-0' }));
    assert.deepEqual(lines, ['finished']);
    assert.deepEqual((await readFile(markers, 'utf8')).trim().split('\n').sort(), ['start 0', 'start 1']);
  });

  it('a replica sees nothing of SkyShift: own HOME, an environment built from nothing, and (as root) an unprivileged user', async () => {
    const workdir = await tempDir();
    const secretDir = await tempDir('skyshift-secret-', 0o700);
    await writeFile(join(secretDir, 'signing.key'), 'TOP-SECRET-KEY', { mode: 0o600 });
    process.env['SKYSHIFT_TEST_SECRET'] = 'leaked-if-you-see-this';
    try {
      const m = new LocalManager({ name: 'iso', workdir });
      await m.connect();
      const j = job('iso', `echo "uid=$(id -u) home=$HOME pwd=$(pwd)"; env | sort; cat ${secretDir}/signing.key 2>&1; touch "$HOME/mine" && echo wrote-home`, {
        envs: { MINE: 'yes' },
      });
      const id = await m.submit(j, { ranks: [0] });
      assert.deepEqual(await allDone(m, j), { 'iso-0': 'COMPLETED' });
      const lines = await collect(m.logs(ref(j), {}));
      const text = lines.join('\n');
      const home = join(workdir, 'jobs', id, '0', 'work');
      const root = process.getuid?.() === 0;
      assert.ok(lines.includes(`uid=${root ? 65534 : process.getuid?.()} home=${home} pwd=${home}`), text);
      assert.ok(lines.includes('wrote-home'), text);
      assert.ok(lines.includes('MINE=yes'), text);
      assert.ok(!text.includes('leaked-if-you-see-this'), 'SkyShift environment leaked');
      // Everything but what bash sets for itself comes from the job or from SkyShift's short, fixed list.
      const bashOwn = new Set(['OLDPWD', 'PWD', 'SHLVL', '_']);
      const names = lines
        .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
        .map((l) => l.split('=', 1)[0]!)
        .filter((n) => !bashOwn.has(n))
        .sort();
      assert.deepEqual(names, [
        'HOME',
        'LANG',
        'LOGNAME',
        'MINE',
        'PATH',
        'POD_RANK',
        'SHELL',
        'SKYSHIFT_JOB',
        'SKYSHIFT_JOB_UID',
        'SKYSHIFT_REPLICA',
        'SKYSHIFT_REPLICAS',
        'USER',
      ]);
      if (root) {
        assert.ok(!text.includes('TOP-SECRET-KEY'), 'replica read a 0600 file of SkyShift');
        const work = await stat(home);
        assert.equal(work.uid, 65534);
        assert.equal(work.mode & 0o777, 0o700);
        const log = await stat(join(workdir, 'jobs', id, '0', 'output.log'));
        assert.equal(log.mode & 0o077, 0, 'log readable by others');
      }
      await m.cancel(ref(j));
    } finally {
      delete process.env['SKYSHIFT_TEST_SECRET'];
    }
  });

  it('one live process owns a workdir: another process may not connect or cancel there; the lock of a released or crashed holder is taken', async () => {
    const workdir = await tempDir();
    const indexUrl = new URL('../src/managers/index.ts', import.meta.url).href;
    // A separate node process plays a second SkyShift pointed at the same workdir.
    const script = (action: string) => `import { LocalManager } from ${JSON.stringify(indexUrl)};
      const m = new LocalManager({ name: 'owned', workdir: ${JSON.stringify(workdir)} });
      try { ${action}; console.log('ok'); } catch (err) { console.log('refused: ' + err.message); }
      process.exit(0);`;
    const other = async (action: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(action)], {
        cwd: resolve(import.meta.dirname, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((res) => child.once('exit', res));
      return out.trim();
    };
    const m = new LocalManager({ name: 'owned', workdir });
    await m.connect();
    const j = job('owned', 'sleep 30');
    await m.submit(j, { ranks: [0] });
    const refused = await other(`await m.cancel(${JSON.stringify(ref(j))})`);
    assert.match(refused, new RegExp(`^refused: cluster 'owned': workdir .* is in use by process ${process.pid} \\(local cluster 'owned'`));
    assert.deepEqual((await tasksOf(m, j))?.tasks, { 'owned-0': 'RUNNING' });
    assert.match(await other('await m.connect()'), /^refused: /);
    const st = await other('const s = await m.status(); if (s.phase !== "ERROR") throw new Error(s.phase)');
    assert.equal(st, 'ok');
    await m.cancel(ref(j));
    await m.close();
    // Released: another process may take it, and after that process is gone (it exited), so may we.
    assert.equal(await other('await m.connect()'), 'ok');
    await m.connect();
    await m.close();
    // A holder that crashed (a pid that no longer runs) does not block: its lock is taken over.
    const dead = spawn('true');
    await new Promise((res) => dead.once('exit', res));
    await writeFile(join(workdir, 'skyshift.lock'), JSON.stringify({ pid: dead.pid, startTime: '1', purpose: 'crashed', acquiredAt: 'then' }));
    await m.connect();
    assert.match(await readFile(join(workdir, 'skyshift.lock'), 'utf8'), new RegExp(`"pid":${process.pid},`));
    await m.close();
  });

  it('a recorded process that vanished without an exit code is FAILED', async () => {
    const workdir = await tempDir();
    const m = new LocalManager({ name: 'k', workdir });
    const j = job('killed', 'sleep 30');
    const id = await m.submit(j, { ranks: [0] });
    await waitFor('running', async () => (await tasksOf(m, j))?.tasks['killed-0'] === 'RUNNING');
    const rec = JSON.parse(await readFile(join(workdir, 'jobs', id, '0', 'record.json'), 'utf8')) as { pgid: number };
    process.kill(-rec.pgid, 'SIGKILL'); // e.g. the OOM killer, or a reboot
    assert.equal(await waitFor('failed', async () => (await tasksOf(m, j))?.tasks['killed-0'] === 'FAILED' && 'FAILED'), 'FAILED');
    await m.cancel(ref(j));
  });

  it('cancel kills the whole process tree, grandchildren included', async () => {
    const workdir = await tempDir();
    const pidDir = await tempDir('skyshift-pids-', 0o777);
    const m = new LocalManager({ name: 'tree', workdir, killGraceMs: 1000 });
    const j = job('tree', `bash -c 'sleep 100 & echo $! > "$PIDS/bg-$POD_RANK"; sleep 100' & echo $! > "$PIDS/inner-$POD_RANK"; wait`, {
      replicas: 2,
      envs: { PIDS: pidDir },
    });
    const id = await m.submit(j, { ranks: [0, 1] });
    const pids = async (rank: number) => {
      const rec = JSON.parse(await readFile(join(workdir, 'jobs', id, String(rank), 'record.json'), 'utf8')) as { pid: number };
      const bg = Number(await readFile(join(pidDir, `bg-${rank}`), 'utf8'));
      const inner = Number(await readFile(join(pidDir, `inner-${rank}`), 'utf8'));
      return [rec.pid, inner, bg];
    };
    await waitFor('grandchildren started', async () => (await readdir(pidDir)).length === 4);
    const p0 = await pids(0);
    const p1 = await pids(1);
    for (const p of [...p0, ...p1]) assert.ok(await alive(p), `pid ${p} should run`);

    await m.cancel(ref(j), [0]);
    for (const p of p0) assert.equal(await alive(p), false, `pid ${p} of rank 0 should be gone`);
    for (const p of p1) assert.ok(await alive(p), `pid ${p} of rank 1 should still run`);
    assert.deepEqual((await tasksOf(m, j))?.tasks, { 'tree-1': 'RUNNING' });

    await m.cancel(ref(j));
    for (const p of p1) assert.equal(await alive(p), false, `pid ${p} of rank 1 should be gone`);
    assert.equal(await tasksOf(m, j), undefined);
    await m.cancel(ref(j)); // idempotent
  });

  it('logs: tail, follow across replicas until they exit, abort', async () => {
    const workdir = await tempDir();
    const m = new LocalManager({ name: 'logs', workdir, pollMs: 50, killGraceMs: 500 });
    const j = job('talk', 'for i in 1 2 3 4 5; do echo "r$POD_RANK line $i"; done; sleep 1; echo "r$POD_RANK late"; printf "r$POD_RANK no newline"', {
      replicas: 2,
    });
    await m.submit(j, { ranks: [0, 1] });
    await waitFor('first lines', async () => (await collect(m.logs(ref(j), {}))).length >= 10);

    const guard = AbortSignal.timeout(15_000);
    const followed = await collect(m.logs(ref(j), { follow: true, signal: guard }));
    assert.equal(guard.aborted, false, 'follow must end by itself when the replicas exit');
    for (const r of [0, 1]) {
      const mine = followed.filter((l) => l.startsWith(`r${r} `));
      assert.deepEqual(mine, [1, 2, 3, 4, 5].map((i) => `r${r} line ${i}`).concat([`r${r} late`, `r${r} no newline`]));
    }

    assert.deepEqual(await collect(m.logs(ref(j), { tail: 2, task: 'talk-1' })), ['r1 late', 'r1 no newline']);
    assert.deepEqual(await collect(m.logs(ref(j), { tail: 1 })), ['r0 no newline', 'r1 no newline']);
    assert.deepEqual(await collect(m.logs(ref(j), { tail: 0 })), []);
    assert.equal((await collect(m.logs(ref(j), { tail: 100 }))).length, 14);

    // follow on a long-running replica: new lines arrive live, the signal ends the stream
    const slow = job('slow', 'echo one; sleep 0.5; echo two; sleep 100');
    await m.submit(slow, { ranks: [0] });
    const ac = new AbortController();
    const seen: string[] = [];
    const started = Date.now();
    for await (const line of m.logs(ref(slow), { follow: true, tail: 10, signal: ac.signal })) {
      seen.push(line);
      if (line === 'two') setTimeout(() => ac.abort(), 200);
    }
    assert.deepEqual(seen, ['one', 'two']);
    assert.ok(Date.now() - started < 10_000);
    await m.cancel(ref(slow));
    await m.cancel(ref(j));
    await assert.rejects(collect(m.logs(ref(j), {})), /job 'default\/talk' has no replicas on cluster 'logs'/);
  });

  it('runtime podman: clear errors when podman or runc is not installed (PATH without them)', async () => {
    // The real container path is test/managers-podman.test.ts; here PATH hides podman so the check runs on any host.
    const emptyBin = await tempDir('skyshift-nopodman-');
    const onlyPodman = await tempDir('skyshift-norunc-');
    await symlink('/bin/true', join(onlyPodman, 'podman'));
    const saved = process.env.PATH;
    try {
      process.env.PATH = emptyBin;
      const m = new LocalManager({ name: 'pod', workdir: await tempDir(), runtime: 'podman' });
      const st = await m.status();
      assert.equal(st.phase, 'ERROR');
      assert.equal(st.message, "cluster 'pod': runtime podman is not installed on this host (apt-get install podman runc)");
      await assert.rejects(m.connect(), /cluster 'pod': runtime podman is not installed/);
      const j = job('boxed', 'echo hi', { image: 'ubuntu:22.04' });
      await assert.rejects(m.submit(j, { ranks: [0] }), /cluster 'pod': runtime podman is not installed/);
      assert.equal(await tasksOf(m, j), undefined, 'nothing started');

      process.env.PATH = onlyPodman;
      assert.equal((await m.status()).message, "cluster 'pod': runtime podman needs runc, which is not installed on this host (apt-get install runc)");
    } finally {
      process.env.PATH = saved;
    }
  });

  it('connect fails naming the cluster when the workdir is not writable', async () => {
    const m = new LocalManager({ name: 'ro', workdir: '/proc/skyshift-cannot-write-here/x' });
    await assert.rejects(m.connect(), /cluster 'ro': workdir .* is not writable/);
    assert.equal((await m.status()).phase, 'ERROR');
  });
});
