/**
 * skyctl as a kubectl user drives it (issue 15): KIND/NAME arguments (and
 * `get -o name | xargs delete` through a real shell), -o jsonpath and
 * custom-columns, --no-headers, --sort-by, delete -l/--all, --dry-run on
 * create/apply/delete, and apply going on past a failing document. A real
 * `skyshift server` process and skyctl as a real process per command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, SKYCTL_BIN, startServer, type TestServer } from './infra/server.js';
import { ok, runSkyctl, type SkyctlRun } from './infra/skyctl.js';

let server: TestServer;
let home: string;
let dir: string;

function skyctl(args: string[], input?: string): Promise<SkyctlRun> {
  return runSkyctl(args, { home, server: server.url, ...(input !== undefined ? { input } : {}) });
}

const names = async (kind: string, ...extra: string[]): Promise<string> => ok(await skyctl(['get', kind, '-o', 'name', ...extra])).stdout;

async function api(method: string, path: string): Promise<number> {
  return (await fetch(server.url + path, { method })).status;
}

function manifest(file: string, text: string): string {
  const path = join(dir, file);
  writeFileSync(path, text);
  return path;
}

before(async () => {
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'skyctl-output-home-'));
  dir = mkdtempSync(join(tmpdir(), 'skyctl-output-'));
});

after(async () => {
  await server?.stop();
});

describe('skyctl output and object arguments against a real server', () => {
  test('KIND/NAME works in get, describe, delete and logs; get -o name | xargs skyctl delete in a shell', async () => {
    for (const n of ['big', 'small']) ok(await skyctl(['create', 'job', n, '--run', 'true']));
    ok(await skyctl(['create', 'cluster', 'edge', '--manager', 'local']));
    assert.equal(ok(await skyctl(['get', 'job/big', '-o', 'name'])).stdout, 'job/big\n');
    assert.equal(ok(await skyctl(['get', 'jobs/big', 'cluster/edge', '-o', 'name'])).stdout, 'job/big\ncluster/edge\n');
    const two = JSON.parse(ok(await skyctl(['get', 'job', 'big', 'small', '-o', 'json'])).stdout) as { kind: string; items: unknown[] };
    assert.deepEqual([two.kind, two.items.length], ['List', 2]);
    assert.match(ok(await skyctl(['describe', 'job/big'])).stdout, /^Name: +big\n/);
    assert.match(ok(await skyctl(['describe', 'cluster/edge'])).stdout, /^Name: +edge\n/);
    assert.equal((await skyctl(['logs', 'cluster/edge'])).code, 2);
    const missing = await skyctl(['logs', 'job/nope']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.equal((await skyctl(['get', 'job', 'job/big'])).code, 2);

    const sk = `'${process.execPath}' --import tsx '${SKYCTL_BIN}' --server ${server.url}`;
    const shell = await promisify(execFile)('sh', ['-c', `${sk} get jobs -o name | xargs ${sk} delete`], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, SKYSHIFT_SERVER: '', NO_COLOR: '1' },
    });
    assert.equal(shell.stdout, 'job "big" deleted\njob "small" deleted\n');
    assert.equal(await names('jobs'), '');
    assert.equal(ok(await skyctl(['delete', 'cluster/edge'])).stdout, 'cluster "edge" deleted\n');
  });

  test('-o jsonpath, -o custom-columns, --no-headers, --sort-by', async () => {
    for (const n of ['c', 'a', 'b']) ok(await skyctl(['create', 'job', n, '--run', 'true', '--replicas', String(n.charCodeAt(0) - 96)]));
    assert.equal(ok(await skyctl(['get', 'job', 'a', '-o', 'jsonpath={.metadata.name}'])).stdout, 'a');
    assert.equal(ok(await skyctl(['get', 'jobs', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout, 'a b c');
    assert.equal(ok(await skyctl(['get', 'jobs', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).stdout, 'a\nb\nc\n');
    const byTime = ok(
      await skyctl(['get', 'jobs', '--sort-by=.metadata.creationTimestamp', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas']),
    );
    assert.equal(byTime.stdout, 'NAME   REPLICAS\nc      3\na      1\nb      2\n');
    const bare = ok(
      await skyctl(['get', 'jobs', '--no-headers', '--sort-by', '{.spec.replicas}', '-o', 'custom-columns=NAME:.metadata.name,X:.status.nothing']),
    );
    assert.equal(bare.stdout, 'a   <none>\nb   <none>\nc   <none>\n');
    const table = ok(await skyctl(['get', 'jobs', '--no-headers', '--sort-by=.spec.replicas']))
      .stdout.trimEnd()
      .split('\n');
    assert.deepEqual(
      table.map((l) => l.split(/\s+/)[0]),
      ['a', 'b', 'c'],
    );
    assert.equal((await skyctl(['get', 'jobs', '-o', 'jsonpath={range .items[*]}'])).code, 2);
    assert.equal((await skyctl(['get', 'jobs', '-o', 'custom-columns=NAME'])).code, 2);
    assert.equal((await skyctl(['get', 'jobs', '-o', 'bogus'])).code, 2);
  });

  test('delete -l SELECTOR and delete --all (namespace, then -A)', async () => {
    ok(await skyctl(['create', 'namespace', 'other']));
    ok(await skyctl(['create', 'job', 'x', '--run', 'true', '-l', 'team', 'ml']));
    ok(await skyctl(['create', 'job', 'y', '--run', 'true', '-n', 'other']));
    assert.equal(ok(await skyctl(['delete', 'jobs', '-l', 'team=ml'])).stdout, 'job "x" deleted\n');
    const none = ok(await skyctl(['delete', 'jobs', '-l', 'team=ml']));
    assert.deepEqual([none.stdout, none.stderr], ['', 'No resources found\n']);
    assert.equal(ok(await skyctl(['delete', 'jobs', '--all'])).stdout, 'job "a" deleted\njob "b" deleted\njob "c" deleted\n');
    assert.equal(await names('jobs', '-A'), 'job/y\n', 'other namespaces are left alone');
    assert.equal(ok(await skyctl(['delete', 'jobs', '--all', '-A'])).stdout, 'job "y" deleted\n');
    assert.equal((await skyctl(['delete', 'jobs', 'y', '--all'])).code, 2);
  });

  test('--dry-run=client|server on create, apply and delete store nothing', async () => {
    const client = ok(await skyctl(['create', 'job', 'd', '--run', 'true', '--dry-run=client', '-o', 'json']));
    assert.equal((JSON.parse(client.stdout) as { spec: { run: string } }).spec.run, 'true');
    const server1 = ok(await skyctl(['create', 'job', 'd', '--run', 'true', '--dry-run=server', '-o', 'json']));
    const answer = JSON.parse(server1.stdout) as { metadata: { creationTimestamp?: string }; spec: { replicas: number } };
    assert.equal(answer.spec.replicas, 1, 'the server applied its defaults');
    assert.equal(typeof answer.metadata.creationTimestamp, 'string');
    assert.equal(ok(await skyctl(['create', 'job', 'd', '--run', 'true', '--dry-run=server'])).stdout, 'job/d created (server dry run)\n');
    assert.equal(await api('GET', '/default/jobs/d'), 404);
    const rejected = await skyctl(['create', 'job', 'd', '--run', 'true', '--replicas', '-3', '--dry-run=server']);
    assert.equal(rejected.code, 1, 'the server validates a dry run');

    const file = manifest('dry.yaml', 'kind: Job\nmetadata: {name: d}\nspec: {run: "true"}\n');
    assert.equal(ok(await skyctl(['apply', '-f', file, '--dry-run=server'])).stdout, 'job/d created (server dry run)\n');
    assert.equal(ok(await skyctl(['apply', '-f', file, '--dry-run=client'])).stdout, 'job/d created (dry run)\n');
    assert.equal(await api('GET', '/default/jobs/d'), 404);
    ok(await skyctl(['apply', '-f', file]));
    writeFileSync(file, 'kind: Job\nmetadata: {name: d}\nspec: {run: "false"}\n');
    assert.equal(ok(await skyctl(['apply', '-f', file, '--dry-run=server'])).stdout, 'job/d configured (server dry run)\n');
    const stored = JSON.parse(ok(await skyctl(['get', 'job', 'd', '-o', 'json'])).stdout) as { spec: { run: string } };
    assert.equal(stored.spec.run, 'true');

    assert.equal(ok(await skyctl(['delete', 'job/d', '--dry-run=server'])).stdout, 'job "d" deleted (server dry run)\n');
    assert.equal(ok(await skyctl(['delete', 'job', 'd', '--dry-run=client'])).stdout, 'job "d" deleted (dry run)\n');
    assert.equal((await skyctl(['delete', 'job', 'ghost', '--dry-run=server'])).code, 1);
    assert.equal(await api('GET', '/default/jobs/d'), 200);
    assert.equal((await skyctl(['delete', 'job', 'd', '--dry-run=maybe'])).code, 2);
  });

  test('apply reports every document, goes on past failures and exits 1; unchanged only by the server', async () => {
    const file = manifest(
      'multi.yaml',
      [
        'kind: Job\nmetadata: {name: m1}\nspec: {run: "true"}',
        'kind: Widget\nmetadata: {name: w}\nspec: {}',
        'kind: Job\nmetadata: {name: m3}\nspec: {run: "true"}',
        'kind: Job\nmetadata: {name: m4}\nspec: {run: "true", replicas: -1}',
      ].join('\n---\n'),
    );
    const first = await skyctl(['apply', '-f', file]);
    assert.equal(first.code, 1);
    assert.equal(first.stdout, 'job/m1 created\njob/m3 created\n');
    assert.match(first.stderr, /^error: widget\/w: the server doesn't have a resource type "Widget" \(.*multi\.yaml, document 2\)$/m);
    assert.match(first.stderr, /^error: job\/m4: Error from server \(Invalid\): /m);
    const second = await skyctl(['apply', '-f', file]);
    assert.equal(second.code, 1);
    assert.equal(second.stdout, 'job/m1 unchanged\njob/m3 unchanged\n');
    // An existing object and a document the server would refuse: an error, never "unchanged".
    // Its spec matches the stored one (a local diff said "unchanged"); the server refuses the unknown field.
    const bad = manifest('bad.yaml', 'kind: Job\nmetadata: {name: m1}\nspec: {run: "true"}\nbogus: 1\n');
    const refused = await skyctl(['apply', '-f', bad]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: job\/m1: Error from server \(Invalid\): .*bogus: unknown field/);
  });

  test('apply twice: every example kind is "unchanged" the second time, by the server\'s answer', async () => {
    const first = ok(await skyctl(['apply', '-f', join(REPO_ROOT, 'examples')]));
    assert.doesNotMatch(first.stdout, /unchanged/);
    const second = ok(await skyctl(['apply', '-f', join(REPO_ROOT, 'examples')]));
    const lines = second.stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 5, second.stdout);
    for (const line of lines) assert.match(line, / unchanged$/);
  });
});
