/**
 * exec and port-forward into Slurm tasks, against a REAL Slurm
 * (test/infra/slurm.ts) and a real sshd on loopback (test/infra/sshd.ts):
 * the same cluster driven locally and over SSH (same name and workdir, so
 * both managers see the same jobs). Everything is stopped by PID in after().
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createManager, type ClusterManager } from '../../src/managers/index.js';
import { capability, hasCapability } from '../../src/managers/capabilities.js';
import { ManagerError } from '../../src/managers/errors.js';
import { freePort } from '../infra/ports.js';
import { startSlurm, type SlurmInstance } from '../infra/slurm.js';
import { startSshd, type SshdInstance } from '../infra/sshd.js';
import { job, ref, states, waitFor } from './helpers.js';

const run = promisify(execFile);

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

async function rejectsWith(p: Promise<unknown>, reason: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ManagerError, String(err));
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, re);
    return true;
  });
}

describe('slurm manager: exec and port-forward, real Slurm', { timeout: 300_000 }, () => {
  let slurm: SlurmInstance;
  let sshd: SshdInstance;
  let workdir: string;
  let local: ClusterManager;
  let remote: ClusterManager;
  let echoPort: number;
  const running = job('live', 'sleep 120');
  let echo: ReturnType<typeof job>;
  const done = job('done', 'echo bye');

  before(async () => {
    [slurm, sshd] = await Promise.all([startSlurm({ cpus: 4, rest: false }), startSshd()]);
    workdir = await mkdtemp(join(tmpdir(), 'skyshift-slurm-exec-'));
    const config = { interface: 'cli', env: slurm.env, workdir };
    local = createManager({ metadata: { name: 'hpc-exec' }, spec: { manager: 'slurm', config } });
    remote = createManager({
      metadata: { name: 'hpc-exec' },
      spec: {
        manager: 'slurm',
        config: { ...config, host: sshd.host, port: sshd.port, user: sshd.user, sshKey: sshd.keyFile, knownHostsFile: sshd.knownHostsFile },
      },
    });
    await local.connect();
    echoPort = await freePort();
    // A TCP echo server the task itself runs, on the node's address.
    const server = `require('net').createServer((s) => s.pipe(s)).listen(${echoPort}, '127.0.0.1')`;
    echo = job('echo', `exec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(server)}`);
    await local.submit(running, { ranks: [0] });
    await local.submit(echo, { ranks: [0] });
    await local.submit(done, { ranks: [0] });
    await states(local, running, (s) => s[0] === 'RUNNING', 'RUNNING');
    await states(local, echo, (s) => s[0] === 'RUNNING', 'RUNNING');
    await states(local, done, (s) => s[0] === 'COMPLETED', 'COMPLETED');
  });
  after(async () => {
    await Promise.allSettled([slurm?.stop(), sshd?.stop()]);
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('has the exec and portForward capabilities', () => {
    assert.ok(hasCapability(local, 'exec'));
    assert.ok(hasCapability(local, 'portForward'));
  });

  for (const where of ['local', 'ssh'] as const) {
    const m = () => (where === 'local' ? local : remote);
    const ex = () => capability(m(), 'exec', 'hpc-exec');
    const pf = () => capability(m(), 'portForward', 'hpc-exec');

    it(`${where}: exec stdout, stderr and exit code in the task's step`, async () => {
      const s = await ex().exec(ref(running), {
        task: 'live-0',
        command: ['sh', '-c', 'echo "out $SLURM_JOB_ID $1"; echo err >&2; exit 7', 'sh', "it's; $(not run)"],
      });
      await s.stdin.close();
      const [out, err, code] = await Promise.all([text(s.stdout), text(s.stderr), s.exitCode]);
      assert.equal(code, 7, err);
      assert.match(out, /^out \d+ it's; \$\(not run\)\n$/);
      assert.match(err, /^err$/m);
    });

    it(`${where}: exec stdin reaches the command`, async () => {
      const s = await ex().exec(ref(running), { task: 'live-0', command: ['tr', 'a-z', 'A-Z'] });
      const w = s.stdin.getWriter();
      await w.write(new TextEncoder().encode('hello slurm\n'));
      await w.close();
      const [out, code] = await Promise.all([text(s.stdout), s.exitCode, text(s.stderr)]);
      assert.equal(out, 'HELLO SLURM\n');
      assert.equal(code, 0);
    });

    it(`${where}: exec with a terminal (srun --pty) and its exit code`, async () => {
      const s = await ex().exec(ref(running), { task: 'live-0', command: ['sh', '-c', 'tty; stty size; exit 3'], tty: true });
      s.resize?.(100, 30);
      const [out, code] = await Promise.all([text(s.stdout), s.exitCode]);
      assert.equal(code, 3, out);
      assert.match(out, /\/dev\/pts\/\d+/);
      assert.match(out, /30 100/);
    });

    it(`${where}: an abandoned exec ends its Slurm step`, async () => {
      const abort = new AbortController();
      const s = await ex().exec(ref(running), { task: 'live-0', command: ['sleep', '300'], signal: abort.signal });
      const steps = async () => (await run('squeue', ['-h', '-s', '-o', '%i %j'], { env: { ...process.env, ...slurm.env } })).stdout;
      await waitFor('the sleep step', async () => /sleep/.test(await steps()));
      abort.abort();
      const code = await s.exitCode;
      assert.notEqual(code, 0);
      await waitFor('the step gone', async () => !/sleep/.test(await steps()));
    });

    it(`${where}: a finished task is refused (409), an unknown one is 404`, async () => {
      await rejectsWith(ex().exec(ref(done), { task: 'done-0', command: ['true'] }), 'Conflict', /done-0.*COMPLETED, not running/);
      await rejectsWith(pf().portForward(ref(done), { task: 'done-0', port: 80 }), 'Conflict', /not running/);
      await rejectsWith(ex().exec(ref(running), { task: 'live-9', command: ['true'] }), 'NotFound', /live-9/);
      await rejectsWith(ex().exec(ref(running), { task: 'live-0', command: [] }), 'BadRequest', /command/);
      await rejectsWith(pf().portForward(ref(running), { task: 'live-0', port: 70000 }), 'BadRequest', /port/);
    });

    it(`${where}: port-forward carries bytes both ways to the task's echo server`, async () => {
      const abort = new AbortController();
      const { readable, writable } = await pf().portForward(ref(echo), { task: 'echo-0', port: echoPort, signal: abort.signal });
      const w = writable.getWriter();
      const payload = `ping ${where} ${'x'.repeat(50_000)}`;
      await w.write(new TextEncoder().encode(payload));
      const reader = readable.getReader();
      let got = '';
      const decoder = new TextDecoder();
      while (got.length < payload.length) {
        const { value, done: end } = await reader.read();
        if (end) break;
        got += decoder.decode(value, { stream: true });
      }
      assert.equal(got, payload);
      abort.abort();
      await w.close().catch(() => undefined);
    });
  }
});
