/**
 * `skyshift agent` end to end: a real `skyshift up` on 127.0.0.1 (its own
 * local cluster `steady`) and real `skyshift agent` processes for cluster
 * `lab` with their own HOME and work dir, joined with an agent token.
 * Checks: join (hardware from a fake nvidia-smi on PATH), no central skylet
 * for the agent cluster, a job placed on the agent runs and completes (its
 * logs read through the server and the agent's tunnel), kill -9 + restart of
 * the agent adopts its replicas (marker files: each rank started once), and
 * a partition (the agent SIGSTOPped) -> ERROR -> replicas re-placed on
 * `steady` -> agent back -> its copies fenced (stopped, never reported
 * RUNNING beside the new ones).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type Daemon } from './infra/process.js';
import {
  REPO_ROOT,
  SKYSHIFT_BIN,
  createLocalClusters,
  job,
  phaseIs,
  startSkyShift,
  waitForCluster,
  waitForJob,
  type Obj,
  type SkyShiftInstance,
} from './infra/skyshift.js';
import { markedRun, readMarks } from './support/marks.js';
import { slurmAvailable, startSlurm, type SlurmInstance } from './infra/slurm.js';

const CLUSTER = 'lab';
const prefersLab = { preferences: [{ name: 'lab', matchLabels: { site: 'lab' }, weight: 100 }] };

/** JSON log lines of a process (pino), those that parse. */
function logLines(file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

/** Live processes whose working directory is under `dir` (local replicas run in their rank dirs). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if ((cwd === dir || cwd.startsWith(dir + '/')) && state !== 'Z') pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

describe('skyshift agent', { timeout: 300_000 }, () => {
  let sky: SkyShiftInstance;
  let agentDir: string;
  let workdir: string;
  let agentLog: string;
  let tokenFile: string;
  let fakeBin: string;
  let agent: Daemon | undefined;

  const startAgent = (): Daemon =>
    startDaemon(
      process.execPath,
      [
        '--import',
        'tsx',
        SKYSHIFT_BIN,
        'agent',
        '--server',
        sky.url,
        '--token-file',
        tokenFile,
        '--cluster',
        CLUSTER,
        '--cpus',
        '4',
        '--memory',
        '4Gi',
        '--workdir',
        workdir,
        '--heartbeat-seconds',
        '1',
        '--log-level',
        'debug',
      ],
      { logFile: agentLog, env: { HOME: agentDir, PATH: `${fakeBin}${delimiter}${process.env['PATH'] ?? ''}` }, cwd: REPO_ROOT },
    );

  before(async () => {
    // Central: stale after 5 heartbeats (5 s), evicted 8 s later — long enough for a kill -9 + restart of the agent to adopt.
    sky = await startSkyShift({ args: ['--no-local-cluster', '--no-kubeconfig', '--heartbeat-seconds', '1', '--eviction-grace-seconds', '8'] });
    await createLocalClusters(sky, [{ name: 'steady', cpus: 4 }]);
    // The agent's "machine": its own HOME and work dir (under sky.dir, so cleanup also stops its replicas).
    agentDir = join(sky.dir, 'agent-host');
    mkdirSync(agentDir, { recursive: true });
    chmodSync(agentDir, 0o711);
    workdir = join(agentDir, 'clusters', CLUSTER);
    agentLog = join(sky.dir, 'agent.log');
    fakeBin = join(agentDir, 'bin');
    mkdirSync(fakeBin);
    // A fake nvidia-smi: two A100s, answering only the query the agent makes.
    writeFileSync(
      join(fakeBin, 'nvidia-smi'),
      '#!/bin/sh\n[ "$1" = "--query-gpu=name,memory.total" ] || exit 9\nprintf "NVIDIA A100-SXM4-40GB, 40960 MiB\\nNVIDIA A100-SXM4-40GB, 40960 MiB\\n"\n',
    );
    chmodSync(join(fakeBin, 'nvidia-smi'), 0o755);
    tokenFile = join(agentDir, 'agent.token');
    await joinToken(sky, CLUSTER, 'local', tokenFile);
  });

  after(async () => {
    await agent?.stop(5000);
    await sky?.cleanup();
  });

  test('joins: registers its Cluster with spec.agent and the detected hardware; no central skylet for it', async () => {
    agent = startAgent();
    const cluster = await waitForCluster(sky.client, CLUSTER, 'READY', 90_000);
    assert.equal(cluster.spec.agent, true);
    assert.equal(cluster.spec.manager, 'local');
    assert.equal(cluster.metadata.labels?.['skyshift.io/agent-heartbeat-seconds'], '1', 'its heartbeat period, for agent-health');
    assert.deepEqual(cluster.status.capacity[CLUSTER], { cpus: 4, memory: 4096, gpus: 2, A100: 2 });
    await sky.client.patch('clusters', CLUSTER, { metadata: { labels: { site: 'lab' } } });

    const started = (file: string) =>
      logLines(file)
        .filter((l) => l['msg'] === 'skylet started')
        .map((l) => l['cluster']);
    assert.deepEqual(started(agentLog), [CLUSTER], 'the agent runs exactly its own skylet');
    assert.ok(started(sky.logFile).includes('steady'), 'the central controllers run the local cluster');
    assert.ok(!started(sky.logFile).includes(CLUSTER), 'the central controllers run no skylet for the agent cluster');
  });

  test('a job placed on the agent cluster runs there and completes', async () => {
    const marks = join(sky.shared, 'hello.marks');
    await sky.client.create(
      'jobs',
      job('hello', `echo "hello from replica $SKYSHIFT_REPLICA"; ${markedRun(marks, 1)}`, { replicas: 2, placement: prefersLab }),
    );
    const done = await waitForJob(sky.client, 'default', 'hello', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.deepEqual(done.status.replicaStatus, { [CLUSTER]: { COMPLETED: 2 } });
    const runs = readMarks(marks);
    assert.deepEqual([...runs.starts.keys()].sort(), ['default/hello-0', 'default/hello-1']);
    for (const [, s] of runs.starts)
      assert.deepEqual(
        s.map((x) => x.cluster),
        [CLUSTER],
      );
    // Logs through the server, which reaches the agent's files over its tunnel (the agent's machine opens no port).
    let text = '';
    for await (const chunk of sky.client.logs('default', 'hello', { task: 'hello-1' })) text += chunk;
    assert.match(text, /hello from replica 1\n/);
    assert.doesNotMatch(text, /replica 0/);
  });

  test('kill -9 and restart of the agent adopts its replicas: none runs twice', async () => {
    const marks = join(sky.shared, 'adopt.marks');
    await sky.client.create('jobs', job('adopt', markedRun(marks, 12), { replicas: 2, placement: prefersLab }));
    await waitForJob(sky.client, 'default', 'adopt', (j) => j.status?.replicaStatus?.[CLUSTER]?.RUNNING === 2, 60_000, '2 RUNNING on lab');
    await agent?.kill();
    agent = startAgent();
    const done = await waitForJob(sky.client, 'default', 'adopt', phaseIs('COMPLETED', 'FAILED'), 90_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.deepEqual(done.status.replicaStatus, { [CLUSTER]: { COMPLETED: 2 } });
    const runs = readMarks(marks);
    for (const id of ['default/adopt-0', 'default/adopt-1']) {
      assert.equal(runs.starts.get(id)?.length, 1, `${id} started once: ${JSON.stringify(runs.starts.get(id))}`);
      assert.equal(runs.ends.get(id)?.length, 1, `${id} ended once`);
    }
  });

  test('partition: ERROR, re-placed on another cluster, and fenced when the agent is back', async () => {
    const marks = join(sky.shared, 'part.marks');
    // On lab a replica would run for minutes: only fencing ends it. Elsewhere it runs 3 s.
    const run = markedRun(marks, 3).replace('sleep 3', 'case "$PWD" in */clusters/lab/*) sleep 300;; *) sleep 3;; esac');
    await sky.client.create('jobs', job('part', run, { replicas: 2, placement: prefersLab }));
    await waitForJob(sky.client, 'default', 'part', (j) => j.status?.replicaStatus?.[CLUSTER]?.RUNNING === 2, 60_000, '2 RUNNING on lab');
    const pid = agent?.pid as number;
    process.kill(pid, 'SIGSTOP');
    let resumed = false;
    // The heal's poller stops with the test, also when an assertion fails (it would keep the test process alive).
    let polling = true;
    try {
      const errored = await waitForCluster(sky.client, CLUSTER, 'ERROR', 30_000);
      assert.match(errored.status.message, /heartbeat/);
      await waitForJob(sky.client, 'default', 'part', (j) => (j.status?.placements?.steady ?? []).length === 2, 40_000, 're-placed on steady');
      assert.equal(processesUnder(workdir).length > 0, true, 'the stopped agent left its replicas running (as a partition does)');

      // Heal. From now on no rank may show RUNNING on two clusters at once.
      const doubles: string[] = [];
      const poller = (async () => {
        while (polling) {
          const j = await sky.client.get<Obj>('jobs', 'part').catch(() => undefined);
          for (const r of [0, 1]) {
            const where = Object.entries((j?.status?.taskStatus ?? {}) as Record<string, Record<string, string>>)
              .filter(([, tasks]) => tasks[`part-${r}`] === 'RUNNING')
              .map(([c]) => c);
            if (where.length > 1) doubles.push(`part-${r} RUNNING on ${where.join(', ')}`);
          }
          await new Promise((res) => setTimeout(res, 100));
        }
      })();
      process.kill(pid, 'SIGCONT');
      resumed = true;
      await waitForCluster(sky.client, CLUSTER, 'READY', 60_000);
      // Fencing comes before the skylet: by the time the agent's heartbeat says READY its stale copies are gone.
      assert.deepEqual(processesUnder(workdir), [], 'lab copies stopped before the agent reported READY');
      const done = await waitForJob(sky.client, 'default', 'part', phaseIs('COMPLETED', 'FAILED'), 60_000, 'finished');
      polling = false;
      await poller;
      assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
      assert.equal(done.status.replicaStatus?.steady?.COMPLETED, 2, JSON.stringify(done.status.replicaStatus));
      assert.deepEqual(doubles, [], 'no rank RUNNING twice after the partition healed');

      // Fenced: the lab copies are gone (their 300 s sleep never finished), stopped by the agent before it reported.
      await waitForProcessesGone(workdir, 20_000);
      const runs = readMarks(marks);
      for (const id of ['default/part-0', 'default/part-1']) {
        assert.deepEqual(
          runs.starts
            .get(id)
            ?.map((s) => s.cluster)
            .sort(),
          [CLUSTER, 'steady'],
          `${id} ran on lab, then on steady`,
        );
        assert.equal(runs.ends.get(id)?.length, 1, `${id} ended once (on steady): the lab copy was stopped`);
      }
      // The agent knew it had been away and began a new session (fencing first). Who stopped the copies may be the
      // fence or, when its watch delivered the job leaving its scope first, the skylet's cancel: both before READY.
      const lines = logLines(agentLog);
      const lostAt = lines.findIndex((l) => typeof l['msg'] === 'string' && /fencing before reporting again|server lost/.test(l['msg']));
      assert.ok(lostAt >= 0, 'the agent noticed it had been away');
      assert.ok(
        lines.slice(lostAt).some((l) => l['msg'] === 'connected: running the skylet'),
        'a new skylet session (after fencing) started once it was back',
      );
    } finally {
      polling = false;
      if (!resumed) process.kill(pid, 'SIGCONT');
    }
  });
});

async function waitForProcessesGone(dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processesUnder(dir).length > 0) {
    if (Date.now() > deadline) throw new Error(`processes still running under ${dir}: ${processesUnder(dir).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Mints an agent join token for `cluster` (created first, as `skyctl create cluster NAME --agent` does) and writes it 0600. */
async function joinToken(sky: SkyShiftInstance, cluster: string, manager: string, file: string): Promise<void> {
  await sky.client.create('clusters', { kind: 'Cluster', metadata: { name: cluster }, spec: { manager, config: {}, agent: true } });
  const res = await fetch(`${sky.url}/clusters/${cluster}/agent-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sky.token ?? ''}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 201, await res.clone().text());
  writeFileSync(file, `${((await res.json()) as { token: string }).token}\n`, { mode: 0o600 });
}

describe('skyshift agent --manager slurm (a login node running its own Slurm commands)', { timeout: 240_000 }, async () => {
  const problem = await slurmAvailable();
  let slurm: SlurmInstance | undefined;
  let sky: SkyShiftInstance | undefined;
  let agent: Daemon | undefined;
  after(async () => {
    // The agent first (nothing resubmits), then skyshift, then Slurm cancels what is left.
    await agent?.stop(5000);
    await sky?.cleanup();
    await slurm?.stop();
  });

  test('joins with Slurm capacity, runs a job through sbatch to completion, logs through the tunnel', { skip: problem }, async () => {
    slurm = await startSlurm({ gpus: { type: 'a100', count: 2 }, cpus: 3, rest: false });
    sky = await startSkyShift({ args: ['--no-local-cluster', '--no-kubeconfig', '--heartbeat-seconds', '1'] });
    const home = join(sky.dir, 'login-node');
    mkdirSync(home, { recursive: true });
    const tokenFile = join(home, 'hpc.token');
    await joinToken(sky, 'hpc', 'slurm', tokenFile);
    const args = [
      '--server',
      sky.url,
      '--token-file',
      tokenFile,
      '--cluster',
      'hpc',
      '--manager',
      'slurm',
      '--slurm-conf',
      slurm.conf,
      '--heartbeat-seconds',
      '1',
    ];
    agent = startDaemon(process.execPath, ['--import', 'tsx', SKYSHIFT_BIN, 'agent', ...args], {
      logFile: join(sky.dir, 'agent-hpc.log'),
      // No SLURM_CONF of its own: only --slurm-conf may lead the agent's Slurm commands to this Slurm.
      env: { HOME: home, SLURM_CONF: '/nonexistent/slurm.conf' },
      cwd: REPO_ROOT,
    });
    const ready = await waitForCluster(sky.client, 'hpc', 'READY', 90_000);
    assert.equal(ready.spec.agent, true);
    assert.deepEqual(ready.spec.config, { interface: 'cli', env: { SLURM_CONF: slurm.conf } });
    assert.deepEqual(ready.status.capacity, { [slurm.nodeName]: { cpus: 3, memory: slurm.memory, gpus: 2, A100: 2 } });

    await sky.client.create('jobs', job('sl', 'echo "hi from $SKYSHIFT_REPLICA"', { replicas: 2 }));
    const done = await waitForJob(sky.client, 'default', 'sl', phaseIs('COMPLETED', 'FAILED'), 90_000, 'finished');
    assert.equal(done.status.phase, 'COMPLETED', JSON.stringify(done.status));
    assert.deepEqual(done.status.replicaStatus, { hpc: { COMPLETED: 2 } });
    let text = '';
    for await (const chunk of sky.client.logs('default', 'sl', { task: 'sl-1' })) text += chunk;
    assert.match(text, /hi from 1\n/);
  });
});
