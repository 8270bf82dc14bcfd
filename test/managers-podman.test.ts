/**
 * The local manager's podman runtime, for real: a busybox image imported into
 * podman storage of its own (test/infra/podman-image.ts), replicas run as
 * containers via `podman run --runtime runc --network=host`. Skips (saying
 * why) only where podman/runc/busybox are not installed; scripts/install-test-deps.sh
 * installs them. `after` removes every container and the storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../src/api/index.js';
import { createManager, LocalManager } from '../src/managers/index.js';
import { testJob } from './support/jobs.js';
import { containerName } from '../src/managers/local/podman.js';
import { MARKER_FILE, MARKER_TEXT, buildBusyboxImage, podmanUnavailable, type PodmanImage } from './infra/podman-image.js';
import { collect, killRecordedProcessGroups, ref, taskWaiters, tasksOf } from './support/manager-tasks.js';

// A developer without podman may skip this suite; CI installs podman (scripts/install-test-deps.sh), so there it must run.
const missing = await podmanUnavailable();
if (missing && process.env.CI) throw new Error(`podman tests cannot run in CI: ${missing}`);
const unavailable = missing;
let img: PodmanImage | undefined;
const workdirs: string[] = [];

function image(): PodmanImage {
  if (!img) throw new Error('image not built');
  return img;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skyshift-podman-wd-'));
  // As root, the local manager insists its replica user could reach the workdir.
  await chmod(dir, 0o711);
  workdirs.push(dir);
  return dir;
}

function manager(workdir: string, name = 'edge'): LocalManager {
  const i = image();
  return new LocalManager({ name, workdir, runtime: 'podman', podmanRoot: i.root, podmanRunroot: i.runroot, killGraceMs: 1000, pollMs: 50 });
}

function job(name: string, run: string, opts: { replicas?: number; envs?: Record<string, string>; image?: string } = {}): Job {
  // Real uids are UUIDs; container names use their first 8 characters.
  return testJob(
    name,
    { run, image: opts.image ?? image().image, envs: opts.envs ?? {}, replicas: opts.replicas ?? 1, resources: { cpus: 1 } },
    { uid: randomUUID() },
  );
}

// Containers start slower than plain processes: a longer deadline than managers-local.
const { waitFor, allDone } = taskWaiters(30_000);

/** Names of the containers in the test storage (running or not). */
async function containers(): Promise<string[]> {
  const out = await image().podman(['ps', '-a', '--format', '{{.Names}}']);
  return out.split('\n').filter(Boolean).sort();
}

/** Pids of host processes whose command line mentions `needle` (podman client, conmon). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const zombie = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
    if (!zombie && cmd.split('\0').includes(needle)) pids.push(Number(e));
  }
  return pids;
}

before(async () => {
  if (!unavailable) img = await buildBusyboxImage();
});

after(async () => {
  // Kill wrappers recorded on disk, then remove all containers and the storage.
  await killRecordedProcessGroups(workdirs);
  await img?.cleanup();
  for (const dir of workdirs) await rm(dir, { recursive: true, force: true });
});

describe('LocalManager with runtime podman (real containers)', { skip: unavailable }, () => {
  it('runs replicas inside the image with their env; exit code -> COMPLETED/FAILED; containers are removed', async () => {
    // The marker is only meaningful if the host lacks it.
    await assert.rejects(access(MARKER_FILE), /ENOENT/);
    const workdir = await tempDir();
    const i = image();
    // Through createManager, as the controllers build it from a Cluster object.
    const m = createManager({
      metadata: { name: 'edge' },
      spec: { manager: 'local', config: { workdir, cpus: 2, memory: '2Gi', runtime: 'podman', podmanRoot: i.root, podmanRunroot: i.runroot } },
    });
    await m.connect();
    const st = await m.status();
    assert.equal(st.phase, 'READY');
    assert.equal(st.runtime, 'podman');
    assert.deepEqual(st.capacity, { edge: { cpus: 2, memory: 2048 } });
    const j = job(
      'boxed',
      `cat ${MARKER_FILE}; echo "rank=$SKYSHIFT_REPLICA pod=$POD_RANK job=$SKYSHIFT_JOB foo=$FOO pwd=$(pwd)"; test -f /.skyshift-command.sh && echo mounted; test -e /workdir/record.json || echo private; exit $(( POD_RANK * 3 ))`,
      {
        replicas: 2,
        envs: { FOO: 'it\'s "quoted" ; $HOME' },
      },
    );
    await m.submit(j, { ranks: [0, 1] });
    assert.deepEqual(await allDone(m, j), { 'boxed-0': 'COMPLETED', 'boxed-1': 'FAILED' });
    for (const r of [0, 1]) {
      const lines = await collect(m.logs(ref(j), { task: `boxed-${r}` }));
      assert.deepEqual(lines, [MARKER_TEXT, `rank=${r} pod=${r} job=default/boxed foo=it's "quoted" ; $HOME pwd=/workdir`, 'mounted', 'private']);
    }
    assert.deepEqual(await containers(), [], '--rm leaves no container behind');
    await m.cancel(ref(j));
    assert.equal(await tasksOf(m, j), undefined);
  });

  it('cancel stops and removes the container, the podman client and conmon', async () => {
    const m = manager(await tempDir());
    const j = job('stopme', 'echo started; sleep 300', { replicas: 2 });
    const uid = j.metadata.uid ?? '';
    await m.submit(j, { ranks: [0, 1] });
    const names = [containerName(uid, 0), containerName(uid, 1)];
    await waitFor('both containers up', async () => JSON.stringify(await containers()) === JSON.stringify(names));
    await waitFor('output', async () => (await collect(m.logs(ref(j), {}))).length === 2);
    assert.deepEqual((await tasksOf(m, j))?.tasks, { 'stopme-0': 'RUNNING', 'stopme-1': 'RUNNING' });
    assert.ok((await processesMentioning(names[0] ?? '')).length > 0, 'podman client / conmon of rank 0 run');

    const started = Date.now();
    await m.cancel(ref(j), [0]);
    // PID 1 in the container ignores SIGTERM; without `podman rm -f` this would hang until SIGKILL of the client and leave the container up.
    assert.ok(Date.now() - started < 15_000, `cancel took ${Date.now() - started} ms`);
    assert.deepEqual(await containers(), [names[1]], 'only rank 1 is left');
    assert.deepEqual(await processesMentioning(names[0] ?? ''), [], 'no podman client or conmon of rank 0 left');
    assert.deepEqual((await tasksOf(m, j))?.tasks, { 'stopme-1': 'RUNNING' });

    await m.cancel(ref(j));
    assert.deepEqual(await containers(), []);
    assert.deepEqual(await processesMentioning(names[1] ?? ''), []);
    assert.equal(await tasksOf(m, j), undefined);
  });

  it('a new LocalManager (SkyShift restarted) adopts the running container instead of starting another', async () => {
    const workdir = await tempDir();
    const first = manager(workdir);
    const j = job('adopt', 'echo "start $POD_RANK"; while [ ! -f /workdir/stop ]; do sleep 0.1; done; echo "stopping"; exit 4');
    await first.submit(j, { ranks: [0] });
    const name = containerName(j.metadata.uid ?? '', 0);
    await waitFor('container up', async () => (await containers()).includes(name));
    const id = (await image().podman(['ps', '-q', '--no-trunc', '--filter', `name=^${name}$`])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const second = manager(workdir);
    assert.deepEqual((await tasksOf(second, j))?.tasks, { 'adopt-0': 'RUNNING' });
    await second.submit(j, { ranks: [0] }); // the restarted controllers resubmit: must adopt
    await sleep(1000);
    assert.equal((await image().podman(['ps', '-a', '-q', '--no-trunc'])).trim(), id, 'same single container');

    // Follow the adopted replica's log live, then let it finish through the mounted workdir.
    const ac = new AbortController();
    const guard = setTimeout(() => ac.abort(), 20_000);
    const seen: string[] = [];
    const rankDir = join(workdir, 'jobs', `default_adopt_${j.metadata.uid}`, '0');
    for await (const line of second.logs(ref(j), { follow: true, signal: ac.signal })) {
      seen.push(line);
      if (line === 'start 0') await writeFile(join(rankDir, 'work', 'stop'), '');
    }
    clearTimeout(guard);
    assert.equal(ac.signal.aborted, false, 'follow ends by itself when the container exits');
    assert.deepEqual(seen, ['start 0', 'stopping']);
    assert.deepEqual(await allDone(second, j), { 'adopt-0': 'FAILED' });
    assert.equal((await readFile(join(rankDir, 'exitcode'), 'utf8')).trim(), '4');
    assert.deepEqual(await containers(), []);
    await second.cancel(ref(j));
  });

  it("a missing image fails the replica with podman's message in its log", async () => {
    const m = manager(await tempDir());
    const j = job('noimage', 'echo never', { image: 'localhost/skyshift-missing-image:none' });
    await m.submit(j, { ranks: [0] });
    assert.deepEqual(await allDone(m, j), { 'noimage-0': 'FAILED' });
    const log = (await collect(m.logs(ref(j), {}))).join('\n');
    assert.match(log, /Error: .*skyshift-missing-image/);
    assert.doesNotMatch(log, /never/);
    await m.cancel(ref(j));
  });
});
