/**
 * skyctl end to end: a real `skyshift server` process (SQLite store) and skyctl
 * run as a real process per command, with HOME in a temp dir.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startServer, type TestServer } from './infra/server.js';
import { ok, runSkyctl, spawnSkyctl, type SkyctlRun } from './infra/skyctl.js';

let server: TestServer;
let home: string;

function skyctl(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; server?: string | null } = {}): Promise<SkyctlRun> {
  return runSkyctl(args, {
    home,
    server: options.server === null ? undefined : (options.server ?? server.url),
    env: options.env,
    input: options.input,
  });
}

before(async () => {
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'skyctl-home-'));
});

after(async () => {
  await server?.stop();
});

describe('skyctl against a real server', () => {
  test('create cluster and get clusters prints the kubectl-style table', async () => {
    assert.equal(
      ok(await skyctl(['create', 'cluster', 'laptop', '--manager', 'local', '--cpus', '4', '--memory', '8Gi', '-l', 'site', 'home'])).stdout,
      'cluster/laptop created\n',
    );
    const r = ok(await skyctl(['get', 'clusters']));
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME {3,}MANAGER {3,}LABELS {3,}RESOURCES {3,}STATUS {3,}AGE$/);
    assert.match(lines[1] ?? '', /^laptop {3,}local {3,}site=home {3,}\S.* {3,}(INIT|READY|ERROR) {3,}\d+[smhd]$/);
    const name = ok(await skyctl(['get', 'cluster', 'laptop', '-o', 'name']));
    assert.equal(name.stdout, 'cluster/laptop\n');
  });

  test('apply a multi-document file: created, then unchanged, then configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyctl-apply-'));
    const file = join(dir, 'jobs.yaml');
    const docs = (run: string) => `kind: Job
metadata:
  name: hello
  labels: {app: demo}
spec:
  run: ${run}
  restart_policy: Never
---
kind: Job
metadata:
  name: world
spec:
  run: echo world
  resources: {cpus: 1}
`;
    writeFileSync(file, docs('echo hello'));
    assert.equal(ok(await skyctl(['apply', '-f', file])).stdout, 'job/hello created\njob/world created\n');
    assert.equal(ok(await skyctl(['apply', '-f', file])).stdout, 'job/hello unchanged\njob/world unchanged\n');
    writeFileSync(file, docs('echo changed'));
    assert.equal(ok(await skyctl(['apply', '-f', dir])).stdout, 'job/hello configured\njob/world unchanged\n');
    const got = JSON.parse(ok(await skyctl(['get', 'job', 'hello', '-o', 'json'])).stdout) as { spec: { run: string } };
    assert.equal(got.spec.run, 'echo changed');
  });

  test('apply from stdin and YAML errors with file:line:col', async () => {
    const r = ok(await skyctl(['apply', '-f', '-'], { input: 'kind: Namespace\nmetadata: {name: team-a}\n' }));
    assert.equal(r.stdout, 'namespace/team-a created\n');
    const dir = mkdtempSync(join(tmpdir(), 'skyctl-bad-'));
    writeFileSync(join(dir, 'bad.yaml'), 'kind: Job\nmetadata:\n  name: x\n  labels: {a: b\n');
    const bad = await skyctl(['apply', '-f', join(dir, 'bad.yaml')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml:\d+:\d+: /);
  });

  test('get jobs -o json|yaml|name', async () => {
    const json = JSON.parse(ok(await skyctl(['get', 'jobs', '-o', 'json'])).stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(json.kind, 'JobList');
    assert.deepEqual(json.items.map((i) => i.metadata.name).sort(), ['hello', 'world']);
    const yaml = YAML.parse(ok(await skyctl(['get', 'jobs', '-o', 'yaml'])).stdout) as { items: unknown[] };
    assert.equal(yaml.items.length, 2);
    assert.equal(
      ok(await skyctl(['get', 'jobs', '-o', 'name']))
        .stdout.split('\n')
        .sort()
        .join(' '),
      ' job/hello job/world',
    );
    const table = ok(await skyctl(['get', 'jobs', '-A']));
    assert.match(table.stdout.split('\n')[0] ?? '', /^NAME {3,}CLUSTER {3,}REPLICAS {3,}RESOURCES {3,}NAMESPACE {3,}STATUS {3,}AGE$/);
    assert.match(table.stdout, /\nworld {3,}0\/1 {3,}cpus: 1 {3,}default {3,}\w+ {3,}\d+[smhd]\n/);
    const empty = ok(await skyctl(['get', 'jobs', '-n', 'nothing-here']));
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, 'No resources found in nothing-here namespace.\n');
  });

  test('get -w prints a change as it happens and exits 0 on Ctrl-C', async () => {
    const child = spawnSkyctl(['get', 'jobs', '-w'], { home, server: server.url });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const waitFor = async (re: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!re.test(out)) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await waitFor(/^hello /m);
      ok(await skyctl(['create', 'job', 'watched', '--run', 'sleep 1']));
      await waitFor(/^watched /m);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('describe shows spec, status and events section', async () => {
    const r = ok(await skyctl(['describe', 'job', 'hello']));
    assert.match(r.stdout, /^Name: +hello$/m);
    assert.match(r.stdout, /^Spec:\n {2}run: echo changed$/m);
    assert.match(r.stdout, /^Events:/m);
  });

  test('delete, then errors and exit codes', async () => {
    assert.equal(ok(await skyctl(['delete', 'job', 'world'])).stdout, 'job "world" deleted\n');
    const missing = await skyctl(['get', 'job', 'world']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error from server \(NotFound\): /);
    const unknownKind = await skyctl(['get', 'jbos']);
    assert.equal(unknownKind.code, 2);
    assert.equal(unknownKind.stderr, 'error: the server doesn\'t have a resource type "jbos"\n');
    assert.equal((await skyctl(['get', 'jobs', '--bogus-flag'])).code, 2);
    assert.equal((await skyctl(['create', 'job'])).code, 2, 'missing NAME');
    const both = await skyctl(['create', 'filterpolicy', 'p', '-i', 'a', '-e', 'a']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /both included and excluded/);
    const dup = await skyctl(['create', 'cluster', 'laptop', '--manager', 'local']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^Error from server \(AlreadyExists\): /);
  });

  test('config contexts: set, use, list; --server and SKYSHIFT_SERVER override', async () => {
    const down = 'http://127.0.0.1:9';
    ok(await skyctl(['config', 'set-context', 'dev', '--server', server.url, '--namespace', 'team-a'], { server: null }));
    ok(await skyctl(['config', 'set-context', 'broken', '--server', down], { server: null }));
    assert.equal(statSync(join(home, '.skyconf', 'config.yaml')).mode & 0o777, 0o600);
    assert.equal(ok(await skyctl(['config', 'current-context'], { server: null })).stdout, 'dev\n');
    const list = ok(await skyctl(['config', 'get-contexts'], { server: null })).stdout.split('\n');
    assert.match(list[0] ?? '', /^CURRENT {3,}NAME {3,}SERVER {3,}NAMESPACE {3,}USER$/);
    assert.match(list[1] ?? '', /^\* {3,}dev {3,}http:\/\/127\.0\.0\.1:\d+ {3,}team-a$/);
    // The context supplies server and namespace.
    ok(await skyctl(['create', 'job', 'in-team', '--run', 'true'], { server: null }));
    assert.match(ok(await skyctl(['get', 'jobs', '-o', 'name'], { server: null })).stdout, /^job\/in-team\n$/);
    ok(await skyctl(['config', 'use-context', 'broken'], { server: null }));
    const unreachable = await skyctl(['get', 'clusters'], { server: null });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach SkyShift API server at http:\/\/127\.0\.0\.1:9/);
    ok(await skyctl(['get', 'clusters'], { server: null, env: { SKYSHIFT_SERVER: server.url } }));
    const flagWins = await skyctl(['get', 'clusters'], { server: down, env: { SKYSHIFT_SERVER: server.url } });
    assert.equal(flagWins.code, 1);
    assert.equal((await skyctl(['config', 'use-context', 'nope'], { server: null })).code, 2);
  });

  test('every command has an Examples section in --help', async () => {
    for (const cmd of [['get'], ['describe'], ['create', 'job'], ['create', 'cluster'], ['apply'], ['delete'], ['config', 'get-contexts']]) {
      const r = ok(await skyctl([...cmd, '--help'], { server: null }));
      assert.match(r.stdout, /\nExamples:\n {2}skyctl /, cmd.join(' '));
    }
  });
});
