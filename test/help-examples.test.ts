/**
 * Every `Examples:` line of every skyctl --help runs and exits 0, in help
 * order, against one `skyshift up --no-local-cluster` with the objects the
 * examples name (local clusters edge, gpu-a, gpu-b; job hello with 3 running
 * replicas), the files they read (job.yaml, cluster.yaml, manifests/), an
 * EDITOR (and a `nano`) that edit for real, and a password on stdin. What an
 * example needs beyond that is in test/support/help-examples.ts; examples
 * that need what no test machine has are skipped tests that say why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, SKYCTL_BIN, startSkyShift, type SkyShiftInstance } from './infra/skyshift.js';
import { FIXTURES, PRELUDE, helpExamples } from './support/help-examples.js';

const examples = await helpExamples();
const RUN_TIMEOUT_MS = 150_000;

interface Run {
  code: number | null;
  out: string;
}

/** bash -c SCRIPT; with `interruptOn`, SIGINT to the process group once the output matches. */
function bash(script: string, env: NodeJS.ProcessEnv, cwd: string, interruptOn?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env, cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // a script that never reads its stdin may have exited already (EPIPE)
    child.stdin.end('correct horse\n');
    let out = '';
    let interrupted = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (interruptOn && !interrupted && interruptOn.test(out)) {
        interrupted = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('skyctl --help examples', { concurrency: false }, () => {
  let sky: SkyShiftInstance;
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  let homes = 0;

  before(async () => {
    sky = await startSkyShift({ args: ['--no-local-cluster'], env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    cwd = join(sky.dir, 'reader');
    const bin = join(sky.dir, 'examples-bin');
    mkdirSync(cwd);
    mkdirSync(bin);
    symlinkSync(join(REPO_ROOT, 'examples'), join(cwd, 'examples'));
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    const tsx = join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs');
    script('skyctl', `exec "${process.execPath}" --import "${tsx}" "${SKYCTL_BIN}" "$@"`);
    // An editor that really edits (a job's restart policy; anything else is left, which skyctl reports as cancelled).
    script('editor', `sed -i 's/restartPolicy: Never/restartPolicy: OnFailure/' "$1"`);
    script('nano', `exec "${join(bin, 'editor')}" "$@"`);
    writeFileSync(join(sky.dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    env = {
      ...process.env,
      HOME: sky.dir,
      PATH: `${bin}:${process.env.PATH}`,
      SKYSHIFT_SERVER: '',
      NO_COLOR: '1',
      EDITOR: join(bin, 'editor'),
      PW: 'correct horse',
      TEST_CA: join(sky.dir, 'ca.pem'),
      KUBECONFIG: '/nonexistent/kubeconfig',
    };
    const made = await bash(`${PRELUDE}\nset -e\nlocal_cluster edge\nlocal_cluster gpu-a a\nlocal_cluster gpu-b b\nhello_running`, env, cwd);
    assert.equal(made.code, 0, `fixture: ${made.out}\n${sky.logTail(20)}`);
  });
  after(async () => {
    await sky?.cleanup();
  });

  for (const ex of examples) {
    const fixture = FIXTURES[ex.line] ?? {};
    const name = `${ex.command || 'skyctl'}: ${ex.line}`;
    if (fixture.skip) {
      test(name, { skip: `not run: needs ${fixture.skip}` }, () => {});
      continue;
    }
    test(name, fixture.todo ? { todo: fixture.todo } : {}, async () => {
      let runEnv = env;
      if (fixture.ownHome) {
        // A scratch copy of HOME: this example changes the current context or logs in as someone else.
        const home = join(sky.dir, `home-${++homes}`);
        cpSync(join(sky.dir, '.skyconf'), join(home, '.skyconf'), { recursive: true });
        runEnv = { ...env, HOME: home };
      }
      const line = fixture.rewrite ? fixture.rewrite(ex.line) : ex.line;
      const setup = fixture.setup ? `{ ${fixture.setup}\n} || { echo "setup failed: $?" >&2; exit 99; }\n` : '';
      // Setup and example in one shell, so variables (an invite) carry over; exec hands signals to skyctl.
      const run = await bash(`${PRELUDE}\n${setup}${fixture.interruptOn ? 'exec ' : ''}${line}`, runEnv, cwd, fixture.interruptOn);
      if (fixture.teardown) await bash(`${PRELUDE}\n${fixture.teardown}`, env, cwd);
      assert.equal(run.code, 0, `\`${line}\` exited ${run.code}:\n${run.out}`);
    });
  }
});
