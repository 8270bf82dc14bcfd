/**
 * skyctl label, annotate, patch, wait, explain, edit and completion against a
 * real `skyshift server` (SQLite, no controllers: the tests write status
 * through the status subresource as a Skylet would), skyctl a real process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SKYCTL_BIN, startServer, type TestServer } from './infra/server.js';
import { ok, runSkyctl, spawnSkyctl, type SkyctlRun } from './infra/skyctl.js';

let server: TestServer;
let home: string;
let bin: string;

function skyctl(args: string[], env?: NodeJS.ProcessEnv): Promise<SkyctlRun> {
  return runSkyctl(args, { home, server: server.url, env });
}

async function api(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

const job = (name: string) => api('POST', '/default/jobs', { kind: 'Job', metadata: { name }, spec: { run: 'echo hi' } });
const setStatus = async (name: string, status: Record<string, unknown>) => {
  const obj = await api('GET', `/default/jobs/${name}`);
  await api('PUT', `/default/jobs/${name}/status`, { ...obj, status: { ...obj.status, ...status } });
};

/** Exit code and output of a spawned skyctl, once it ends. */
function finished(child: ReturnType<typeof spawnSkyctl>): Promise<SkyctlRun> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function script(name: string, body: string): string {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

before(async () => {
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'skyctl-verbs-'));
  bin = mkdtempSync(join(tmpdir(), 'skyctl-verbs-bin-'));
  // `skyctl` on PATH for the completion scripts, talking to the test server.
  script('skyctl', `SKYSHIFT_SERVER=${server.url} exec "${process.execPath}" --import tsx "${SKYCTL_BIN}" "$@"`);
});

after(async () => {
  await server?.stop();
});

describe('skyctl label and annotate', () => {
  test('set, refuse to overwrite, overwrite, remove; kind/name works', async () => {
    await job('lab');
    assert.equal(ok(await skyctl(['label', 'job', 'lab', 'team=ml', 'tier=web'])).stdout, 'job/lab labeled\n');
    const refused = await skyctl(['label', 'job/lab', 'team=infra']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /'team' already has a value \(ml\), and --overwrite is false/);
    assert.equal((await api('GET', '/default/jobs/lab')).metadata.labels.team, 'ml');
    ok(await skyctl(['label', 'job/lab', 'team=infra', 'tier-', '--overwrite']));
    assert.deepEqual((await api('GET', '/default/jobs/lab')).metadata.labels, { team: 'infra' });
    assert.equal(ok(await skyctl(['label', 'job', 'lab', 'team=infra'])).stdout, 'job/lab not labeled\n');
    assert.equal((await skyctl(['label', 'job', 'lab', 'oops'])).code, 2);
    ok(await skyctl(['annotate', 'job', 'lab', 'owner=Ada Lovelace']));
    assert.equal((await skyctl(['annotate', 'job', 'lab', 'owner=Bob'])).code, 1);
    ok(await skyctl(['annotate', 'job', 'lab', 'owner-']));
    assert.deepEqual((await api('GET', '/default/jobs/lab')).metadata.annotations, {});
  });
});

describe('skyctl patch', () => {
  test('merge patch by default, JSON patch with --type json', async () => {
    await job('pat');
    assert.equal(ok(await skyctl(['patch', 'job', 'pat', '-p', '{"spec":{"replicas":3}}'])).stdout, 'job/pat patched\n');
    assert.equal((await api('GET', '/default/jobs/pat')).spec.replicas, 3);
    ok(await skyctl(['patch', 'job/pat', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/run","value":"echo json"}]']));
    const got = await api('GET', '/default/jobs/pat');
    assert.equal(got.spec.run, 'echo json');
    assert.equal(got.spec.replicas, 3);
    assert.equal((await skyctl(['patch', 'job', 'pat', '--type', 'json', '-p', '{"spec":{}}'])).code, 2);
    const invalid = await skyctl(['patch', 'job', 'pat', '-p', '{"spec":{"replicas":-1}}']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /Invalid/);
  });
});

describe('skyctl wait', () => {
  test('phase, condition and delete are met through the watch; a timeout exits 1', async () => {
    await job('w1');
    const phase = finished(spawnSkyctl(['wait', 'job', 'w1', '--for=phase=COMPLETED', '--timeout=30s'], { home, server: server.url }));
    const cond = finished(spawnSkyctl(['wait', 'job/w1', '--for=condition=Scheduled', '--timeout=30s'], { home, server: server.url }));
    await new Promise((r) => setTimeout(r, 1500));
    await setStatus('w1', { phase: 'PENDING', conditions: [{ type: 'Scheduled', status: 'True', reason: 'Placed' }] });
    await setStatus('w1', { phase: 'COMPLETED' });
    for (const r of await Promise.all([phase, cond])) assert.equal(ok(r).stdout, 'job/w1 condition met\n');

    const late = await skyctl(['wait', 'job', 'w1', '--for=phase=FAILED']);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /will never match --for=phase=FAILED: it is COMPLETED/);

    const gone = finished(spawnSkyctl(['wait', 'job', 'w1', '--for=delete', '--timeout=30s'], { home, server: server.url }));
    await new Promise((r) => setTimeout(r, 1500));
    await api('DELETE', '/default/jobs/w1');
    assert.equal(ok(await gone).stdout, 'job/w1 condition met\n');

    await job('w2');
    const started = Date.now();
    const timedOut = await skyctl(['wait', 'job', 'w2', '--for=phase=COMPLETED', '--timeout=1s']);
    assert.equal(timedOut.code, 1);
    assert.match(timedOut.stderr, /timed out waiting for the condition on job\/w2/);
    assert.ok(Date.now() - started < 15_000);
    assert.equal((await skyctl(['wait', 'job', 'w2', '--for=colour=red'])).code, 2);
  });
});

describe('skyctl explain', () => {
  test('a kind, a field path and an unknown field', async () => {
    const kind = ok(await skyctl(['explain', 'job'])).stdout;
    assert.match(kind, /^KIND: +Job\n/);
    assert.match(kind, /FIELDS:\n {2}kind\t<string>/);
    const field = ok(await skyctl(['explain', 'job.spec.restartPolicy'])).stdout;
    assert.match(field, /FIELD: +spec\.restartPolicy <string>/);
    assert.match(field, /Allowed values: Never, OnFailure, Always/);
    const nested = ok(await skyctl(['explain', 'jobs.spec.placement.filters'])).stdout;
    assert.match(nested, /<\[\]Object>/);
    assert.match(nested, /matchExpressions\t<\[\]Object>/);
    const bad = await skyctl(['explain', 'job.spec.nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /field "nope" does not exist in job\.spec/);
  });
});

describe('skyctl edit', () => {
  test('saves an edit; unchanged cancels; a conflict and an invalid edit keep the file', async () => {
    await job('ed');
    const sed = script('edit-run.sh', `sed -i 's/echo hi/echo edited/' "$1"`);
    assert.equal(ok(await skyctl(['edit', 'job', 'ed'], { EDITOR: sed })).stdout, 'job/ed edited\n');
    assert.equal((await api('GET', '/default/jobs/ed')).spec.run, 'echo edited');

    assert.equal(ok(await skyctl(['edit', 'job/ed'], { EDITOR: 'true' })).stdout, 'Edit cancelled, no changes made.\n');

    // The editor changes the file while someone else changes the object.
    const racing = script(
      'edit-race.sh',
      `sed -i 's/echo edited/echo mine/' "$1" && curl -sf -X PATCH -H 'content-type: application/merge-patch+json' -d '{"spec":{"replicas":2}}' ${server.url}/default/jobs/ed >/dev/null`,
    );
    const conflict = await skyctl(['edit', 'job', 'ed'], { EDITOR: racing });
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Conflict/);
    const kept = /Your edit is in (\S+):/.exec(conflict.stderr)?.[1];
    assert.ok(kept && existsSync(kept), conflict.stderr);
    assert.match(readFileSync(kept, 'utf8'), /echo mine/);
    assert.equal((await api('GET', '/default/jobs/ed')).spec.run, 'echo edited');

    const breaking = script('edit-bad.sh', `sed -i 's/replicas: 2/replicas: -4/' "$1"`);
    const invalid = await skyctl(['edit', 'job', 'ed'], { EDITOR: breaking });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /Error from server \(Invalid\)/);
    const left = /Your edit is in (\S+)/.exec(invalid.stderr)?.[1];
    assert.ok(left && existsSync(left), invalid.stderr);
  });
});

describe('skyctl create role', () => {
  test("the original SkyShift's short flags: -n -r -a -u and --users", async () => {
    const made = ok(
      await skyctl(['create', 'role', 'ops', '-n', '*', '-r', 'jobs', '-r', 'clusters', '-a', 'get', '-a', 'list', '-u', 'alice', '--users', 'bob']),
    );
    assert.match(made.stdout, /role\/ops created/);
    const role = await api('GET', '/roles/ops');
    assert.deepEqual(role.spec, { namespaces: ['*'], users: ['alice', 'bob'], rules: [{ resources: ['jobs', 'clusters'], actions: ['get', 'list'] }] });
    assert.equal((await skyctl(['create', 'role', 'bad', '-r', 'jobs', '-a', 'fly'])).code, 2);
  });
});

describe('skyctl completion', () => {
  const sh = promisify(execFile);
  const env = () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: home });

  test('bash: the script loads, and the completer lists kinds and job names from the server', async () => {
    await job('alpha-job');
    await job('beta-job');
    const loaded = await sh('bash', ['-c', 'source <(skyctl completion bash) && complete -p skyctl'], { env: env() });
    assert.match(loaded.stdout, /complete -o default -F _skyctl skyctl/);
    const run = (words: string) =>
      sh(
        'bash',
        ['-c', `source <(skyctl completion bash); COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _skyctl; printf '%s\\n' "\${COMPREPLY[@]}"`],
        { env: env() },
      );
    const names = (await run(`skyctl get jobs ''`)).stdout.split('\n').filter(Boolean).sort();
    assert.ok(names.includes('alpha-job') && names.includes('beta-job'), names.join(','));
    assert.deepEqual((await run(`skyctl describe job al`)).stdout, 'alpha-job\n');
    assert.deepEqual((await run(`skyctl get jo`)).stdout, 'jobs\n');
    assert.match((await run(`skyctl wai`)).stdout, /^wait$/m);
    assert.equal((await run(`skyctl get job/al`)).stdout, 'job/alpha-job\n');
    assert.match((await run(`skyctl delete jobs alpha-job ''`)).stdout, /^beta-job$/m);
    assert.match((await run(`skyctl get jobs -n ''`)).stdout, /^default$/m);
    assert.match((await run(`skyctl get jobs --namespace = de`)).stdout, /^default$/m);
    assert.equal((await run(`skyctl -n nowhere get jobs ''`)).stdout.trim(), '');
    // exec and port-forward take a job, and --task one of its tasks (from its status).
    await setStatus('beta-job', { taskStatus: { c1: { 'beta-job-0': 'RUNNING', 'beta-job-1': 'RUNNING' } } });
    for (const verb of ['exec', 'port-forward']) {
      assert.equal((await run(`skyctl ${verb} bet`)).stdout, 'beta-job\n', verb);
      assert.equal((await run(`skyctl ${verb} beta-job --task ''`)).stdout, 'beta-job-0\nbeta-job-1\n', verb);
    }
  });

  test('zsh and fish scripts print; an unknown shell is a usage error', async () => {
    assert.match(ok(await skyctl(['completion', 'zsh'])).stdout, /compdef _skyctl skyctl/);
    assert.match(ok(await skyctl(['completion', 'fish'])).stdout, /complete -c skyctl/);
    assert.equal((await skyctl(['completion', 'tcsh'])).code, 2);
  });
});
