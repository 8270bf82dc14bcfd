/**
 * Agents on separate hosts (network namespaces), end to end: three
 * `skyshift agent` processes join a control plane in another namespace with
 * tokens from `skyctl create cluster NAME --agent`; a job spreads across them;
 * logs, exec and port-forward reach the replicas through the agents' tunnels
 * (the agents' machines listen on no address but loopback); an agent token
 * acting for another cluster gets 403.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../src/client/index.js';
import { netnsUnavailable } from '../infra/netns.js';
import { waitFor } from '../infra/ports.js';
import { job, placementCounts, waitForCluster, waitForJob, type Obj } from '../infra/skyshift.js';
import { roundTrip } from '../support/streams.js';
import { startAgentLab, type AgentLab } from './harness.js';
import { capacityOf, nonLoopbackListeners, readMarks, tasksIn } from './observe.js';

const AGENTS = ['a1', 'a2', 'a3'];
const ECHO_PORT = 7777;
let L: AgentLab;

const allRunning = (n: number) => (j: Obj) => tasksIn(j).size === n;

describe('agents on separate hosts: join, spread, streams, scope', { skip: netnsUnavailable(), timeout: 150_000 }, () => {
  before(async () => {
    // Over HTTPS (skyshift up --tls), the agents pinning its CA by fingerprint, as on real separate machines.
    L = await startAgentLab({ tls: true, agentArgs: ['--cpus', '2', '--memory', '2Gi'] });
    for (const a of AGENTS) await L.join(a);
    for (const a of AGENTS) L.startAgent(a);
  });
  after(async () => {
    await L?.cleanup();
  });

  test('each agent joins over HTTPS: its cluster is READY, spec.agent, with the capacity it was given', async () => {
    assert.match(L.url, /^https:/);
    for (const a of AGENTS) {
      const c = await waitForCluster(L.client, a, 'READY', 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nagent ${a} log:\n${L.logTail(a)}\nserver log:\n${L.logTail('cp', 15)}`);
      });
      assert.equal(c.spec.agent, true, `${a} spec ${JSON.stringify(c.spec)}`);
      assert.equal(capacityOf(c, 'cpus'), 2, `${a} capacity ${JSON.stringify(c.status.capacity)}`);
    }
    const got = await L.skyctl(['get', 'clusters']);
    assert.equal(got.code, 0, got.stderr);
    for (const a of AGENTS) assert.match(got.stdout, new RegExp(`^${a}\\s.*READY`, 'm'));
  });

  test('a job that needs all three machines is spread one replica per agent, each running on its own host', async () => {
    const marks = join(L.shared, 'spread');
    const echo = `node -e "require('net').createServer(s=>s.on('error',()=>{}).pipe(s)).listen(${ECHO_PORT},'127.0.0.1')"`;
    const run = `echo "start $SKYSHIFT_REPLICA $PWD $$ 0" >> ${marks}; echo "hello from replica $SKYSHIFT_REPLICA"; [ "$SKYSHIFT_REPLICA" = 0 ] && ${echo} & exec sleep 600`;
    await L.client.create('jobs', job('spread', run, { replicas: 3, cpus: 2, memory: 64 }));
    const j = await waitForJob(L.client, 'default', 'spread', allRunning(3), 60_000, '3 tasks RUNNING');
    assert.deepEqual(placementCounts(j), { a1: 1, a2: 1, a3: 1 });
    const workdirs = Object.fromEntries(AGENTS.map((a) => [a, L.workdir(a)]));
    await waitFor('3 start marks', () => readMarks(marks, workdirs).length === 3, 10_000);
    const tasks = tasksIn(j);
    for (const m of readMarks(marks, workdirs)) assert.equal(tasks.get(`spread-${m.rank}`), m.host, `rank ${m.rank} ran in ${m.host}'s work dir`);
  });

  test('logs of every replica reach the operator through the tunnels', async () => {
    const r = await L.skyctl(['logs', 'spread']);
    assert.equal(r.code, 0, r.stderr);
    for (const rank of [0, 1, 2]) assert.match(r.stdout, new RegExp(`hello from replica ${rank}`));
  });

  test('exec runs on the agent host of the task (its address, not the control plane), with its exit code', async () => {
    const j = await L.client.get<Obj>('jobs', 'spread', { namespace: 'default' });
    for (const [task, host] of tasksIn(j)) {
      const script = `require('os').networkInterfaces(); console.log(Object.values(require('os').networkInterfaces()).flat().map(i=>i.address).join(' '))`;
      const r = await L.skyctl(['exec', 'spread', '--task', task, '--', 'node', '-e', script]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(L.lab.host(host).ip), `${task} should see ${host}'s address, saw ${r.stdout}`);
      assert.ok(!r.stdout.includes(L.lab.host('cp').ip), `${task} must not run on the control plane: ${r.stdout}`);
    }
    const failed = await L.skyctl(['exec', 'spread', '--task', 'spread-2', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([failed.code, failed.stdout.trim()], [7, 'out']);
    assert.match(failed.stderr, /err/);
  });

  test('port-forward reaches a loopback-only port on the agent host: 1 MiB on two connections at once', async () => {
    const child = L.spawnSkyctl(['port-forward', 'spread', `:${ECHO_PORT}`, '--task', 'spread-0']);
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const local = await waitFor('Forwarding from', () => Number(/Forwarding from [^\s]*:(\d+)/.exec(out)?.[1]) || undefined, 20_000);
      const a = randomBytes(1 << 20);
      const b = randomBytes(1 << 20);
      const [ea, eb] = await Promise.all([roundTrip(local, a), roundTrip(local, b)]);
      assert.ok(ea.subarray(0, a.length).equals(a) && eb.subarray(0, b.length).equals(b), 'echoed bytes differ');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test("the agents' machines listen on nothing but loopback (no inbound port needed)", async () => {
    for (const a of AGENTS) {
      const r = await L.lab.run(a, 'cat', ['/proc/net/tcp', '/proc/net/tcp6']);
      assert.deepEqual(nonLoopbackListeners(r.stdout), [], `${a} listens on more than loopback`);
    }
  });

  test('an agent token acting for another cluster gets 403; an agent started with it does not take that cluster', async () => {
    const { token } = await L.join('spare');
    const agent = L.clientFor(token);
    /** The HTTP status and message of a call as the spare agent. */
    const as = (method: string, path: string, body?: unknown) =>
      agent.call(method, path, body).then(
        () => ({ status: 200, text: '' }),
        (err: unknown) => ({ status: err instanceof ApiError ? err.code : 0, text: String(err) }),
      );
    const a1 = await L.client.get<Obj>('clusters', 'a1');
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/clusters/a1'],
      ['PUT', '/clusters/a1/status', { ...a1, status: { ...a1.status, phase: 'ERROR' } }],
      ['DELETE', '/clusters/a1'],
      ['GET', '/default/jobs/spread'],
      ['POST', '/default/jobs', job('intruder', 'true')],
    ];
    for (const [method, path, body] of cases) {
      const { status, text } = await as(method, path, body);
      assert.equal(status, 403, `${method} ${path} with spare's token: ${status} ${text.slice(0, 200)}`);
      assert.match(text, /spare/, `the 403 names the token's cluster: ${text.slice(0, 200)}`);
    }
    // Its own cluster is visible to it.
    assert.equal((await as('GET', '/clusters/spare')).status, 200);

    // An agent in a3's namespace claiming a1 with spare's token is refused and exits (code 4, not a retry loop);
    // a1 stays READY under its own agent, with its own config.
    const intruder = L.startAgent('a3', { cluster: 'a1', tokenFile: join(L.dir, 'spare.token'), workdir: join(L.dir, 'a3', 'intruder') });
    try {
      await waitFor('the intruding agent exits', () => intruder.child.exitCode !== null, 30_000, 200);
      assert.equal(intruder.child.exitCode, 4, L.logTail('a3:a1', 20));
      assert.match(L.logTail('a3:a1', 50), /refused this agent token/);
    } finally {
      await intruder.kill();
    }
    const c = await L.client.get<Obj>('clusters', 'a1');
    assert.equal(c.status.phase, 'READY');
    assert.equal(c.spec.config.workdir, L.workdir('a1'));
  });
});
