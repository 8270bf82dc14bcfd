/**
 * Agents on separate hosts, when things go wrong: a cut cable (the agent's
 * switch port down) makes its cluster ERROR and its replicas are re-placed on
 * the other agents; while cut, the isolated agent keeps its replicas running;
 * when the cable is back, the agent stops every rank that now runs elsewhere
 * before it reports (fencing), so no rank has two live copies once the
 * partition heals. Checked with marker lines the replicas append to a file
 * all hosts share. Then an agent killed with SIGKILL and started again adopts
 * its running replicas: none restarted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { netnsUnavailable } from '../infra/netns.js';
import { waitFor } from '../infra/ports.js';
import { job, sleep, waitForCluster, waitForJob, type Obj } from '../infra/skyshift.js';
import { startAgentLab, type AgentLab } from './harness.js';
import { markingRun, ranksIn, readMarks, tasksIn, type Mark } from './observe.js';

const AGENTS = ['a1', 'a2', 'a3'];
let L: AgentLab;
const workdirs = () => Object.fromEntries(AGENTS.map((a) => [a, L.workdir(a)]));
const prefer = (cluster: string) => ({ preferences: [{ name: 'here', matchLabels: { 'skyshift.io/cluster': cluster }, weight: 100 }] });
const only = (cluster: string) => ({ filters: [{ name: 'only', matchLabels: { 'skyshift.io/cluster': cluster } }] });

/** Processes of `host` whose marks appeared (the replicas), alive now. */
function livePids(marks: Mark[], host: string, pidsInHost: number[]): number[] {
  const inHost = new Set(pidsInHost);
  return [...new Set(marks.filter((m) => m.host === host).map((m) => m.pid))].filter((p) => inHost.has(p));
}

describe('agents on separate hosts: partitions, fencing, restarts', { skip: netnsUnavailable(), timeout: 170_000 }, () => {
  before(async () => {
    L = await startAgentLab({ agentArgs: ['--cpus', '2', '--memory', '2Gi'] });
    for (const a of AGENTS) await L.join(a);
    for (const a of AGENTS) L.startAgent(a);
    for (const a of AGENTS) {
      await waitForCluster(L.client, a, 'READY', 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nagent ${a} log:\n${L.logTail(a)}`);
      });
    }
    // Placement preferences match labels: give each agent cluster its name as one.
    for (const a of AGENTS) {
      const c = await L.client.get<Obj>('clusters', a);
      await L.client.update('clusters', { ...c, metadata: { ...c.metadata, labels: { ...c.metadata.labels, 'skyshift.io/cluster': a } } });
    }
  });
  after(async () => {
    await L?.cleanup();
  });

  test('cut cable: ERROR, replicas re-placed, isolated ones keep running; restored: fenced, no rank twice', async () => {
    const file = join(L.shared, 'part');
    await L.client.create('jobs', job('part', markingRun(file), { replicas: 2, cpus: 1, memory: 64, placement: prefer('a1') }));
    const j0 = await waitForJob(L.client, 'default', 'part', (j) => tasksIn(j).size === 2, 60_000, '2 RUNNING');
    assert.deepEqual([...tasksIn(j0).values()], ['a1', 'a1'], 'both ranks start on a1 (preferred)');
    await waitFor('ticks from a1', () => readMarks(file, workdirs()).filter((m) => m.kind === 'tick' && m.host === 'a1').length >= 4, 10_000);

    L.lab.cut('a1');
    const cutAt = Date.now();
    let healedAt = 0;
    try {
      const errored = await waitForCluster(L.client, 'a1', 'ERROR', 30_000);
      assert.ok(errored.status.message || errored.status.conditions, JSON.stringify(errored.status));
      // Re-placed: both ranks RUNNING on a2/a3.
      const moved = await waitForJob(
        L.client,
        'default',
        'part',
        (j) => [...tasksIn(j).values()].filter((c) => c !== 'a1').length === 2,
        40_000,
        'both ranks RUNNING off a1',
      );
      assert.ok(![...tasksIn(moved).values()].includes('a1'), JSON.stringify(moved.status.taskStatus));
      await waitFor(
        'ticks from both re-placed ranks',
        () =>
          new Set(
            readMarks(file, workdirs())
              .filter((m) => m.kind === 'tick' && m.host !== 'a1')
              .map((m) => m.rank),
          ).size === 2,
        15_000,
      );
      // The isolated agent did not kill its replicas: they still tick (a partition is not a crash).
      const before = Date.now();
      await sleep(1000);
      const isolatedTicks = readMarks(file, workdirs()).filter((m) => m.kind === 'tick' && m.host === 'a1' && m.at >= before);
      assert.ok(isolatedTicks.length > 0, 'replicas on the cut host keep running during the partition');
    } finally {
      L.lab.restore('a1');
      healedAt = Date.now();
    }

    const back = await waitForCluster(L.client, 'a1', 'READY', 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent a1 log:\n${L.logTail('a1')}`);
    });
    const readyAt = Date.now();
    assert.ok(back.status.phase === 'READY');
    // Fencing: the a1 copies are gone, and stopped before the agent reported READY (a tick written while
    // being killed may land a moment after our poll saw READY: 500 ms slack for the poll interval).
    await waitFor('a1 replicas gone', () => livePids(readMarks(file, workdirs()), 'a1', L.lab.pids('a1')).length === 0, 10_000).catch((err: Error) => {
      throw new Error(
        `${err.message}: still alive ${livePids(readMarks(file, workdirs()), 'a1', L.lab.pids('a1')).join(',')}\nagent a1 log:\n${L.logTail('a1')}`,
      );
    });
    const marks = readMarks(file, workdirs());
    const lastA1 = Math.max(...marks.filter((m) => m.host === 'a1').map((m) => m.at));
    assert.ok(lastA1 <= readyAt + 500, `a1 replicas ran ${lastA1 - readyAt} ms after a1 was READY again (healed ${readyAt - healedAt} ms before)`);
    // Once healed, each rank ticks from one place only.
    await sleep(3000);
    const since = readyAt + 500;
    for (const rank of [0, 1]) {
      const hosts = new Set(
        marks
          .concat(readMarks(file, workdirs()))
          .filter((m) => m.rank === rank && m.at > since)
          .map((m) => `${m.host}/${m.pid}`),
      );
      assert.equal(hosts.size, 1, `rank ${rank} ran as ${[...hosts].join(', ')} after the partition healed`);
    }
    const j = await L.client.get<Obj>('jobs', 'part', { namespace: 'default' });
    assert.deepEqual([...ranksIn(j).entries()].sort(), [
      [0, 1],
      [1, 1],
    ]);
    assert.ok(healedAt - cutAt < 90_000);
    await L.client.delete('jobs', 'part', { namespace: 'default' }); // frees a2 and a3 for the next test
  });

  test('agent killed with SIGKILL and started again adopts its replicas (none restarted)', async () => {
    const file = join(L.shared, 'adopt');
    await L.client.create('jobs', job('adopt', markingRun(file), { replicas: 2, cpus: 1, memory: 64, placement: only('a2') }));
    await waitForJob(L.client, 'default', 'adopt', (j) => [...tasksIn(j).values()].filter((c) => c === 'a2').length === 2, 60_000, '2 RUNNING on a2');
    await waitFor('2 replicas started', () => readMarks(file, workdirs()).filter((m) => m.kind === 'start').length === 2, 10_000);
    const pidsBefore = livePids(readMarks(file, workdirs()), 'a2', L.lab.pids('a2')).sort();
    assert.equal(pidsBefore.length, 2);

    await L.agent('a2')?.kill();
    await sleep(1500);
    // The replicas outlive their agent.
    assert.deepEqual(livePids(readMarks(file, workdirs()), 'a2', L.lab.pids('a2')).sort(), pidsBefore);

    L.startAgent('a2');
    const startedAgain = Date.now();
    await waitFor(
      'a2 heartbeat after restart',
      async () => {
        const c = await L.client.get<Obj>('clusters', 'a2');
        return c.status.phase === 'READY' && Date.parse(c.status.lastHeartbeatTime ?? '') > startedAgain;
      },
      40_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent a2 log:\n${L.logTail('a2')}`);
    });
    // The restarted agent reports both tasks RUNNING again (it may take a sync or two to find them).
    await waitForJob(
      L.client,
      'default',
      'adopt',
      (j) => [...tasksIn(j).values()].filter((c) => c === 'a2').length === 2,
      15_000,
      'both RUNNING on a2 again',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent a2 log:\n${L.logTail('a2', 15)}`);
    });
    await sleep(2000); // a few heartbeats more: an agent that did not adopt would restart or fail them by now
    const j = await L.client.get<Obj>('jobs', 'adopt', { namespace: 'default' });
    assert.deepEqual([...tasksIn(j).values()], ['a2', 'a2'], JSON.stringify(j.status.taskStatus));
    const marks = readMarks(file, workdirs());
    assert.equal(marks.filter((m) => m.kind === 'start').length, 2, 'no replica started again');
    assert.deepEqual(livePids(marks, 'a2', L.lab.pids('a2')).sort(), pidsBefore, 'the same processes still run');
  });
});
