/**
 * skyctl contexts end to end (issue 15): two real servers with auth, skyctl as
 * a real process with a temp HOME. Login names contexts user@host:port and
 * never overwrites one that means something else; config view/delete/rename,
 * set-context TLS flags, `skyctl token` (what the README's curl uses), and a
 * subcommand's own --context never read as skyctl's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, SKYCTL_BIN, startServer, type TestServer } from './infra/server.js';
import { ok, runSkyctl, type SkyctlRun } from './infra/skyctl.js';

let a: TestServer;
let b: TestServer;
const home = mkdtempSync(join(tmpdir(), 'skyctl-contexts-'));
const password = (s: TestServer) => readFileSync(join(s.dir, '.skyshift', 'admin-password'), 'utf8').trim();
const nameOf = (s: TestServer) => `admin@127.0.0.1:${s.port}`;
const skyctl = (args: string[], input?: string): Promise<SkyctlRun> => runSkyctl(args, { home, ...(input !== undefined ? { input } : {}) });
const config = () =>
  YAML.parse(readFileSync(join(home, '.skyconf', 'config.yaml'), 'utf8')) as { 'current-context'?: string; contexts: Record<string, unknown>[] };

/** A cluster's spec read over HTTP with the token skyctl stored for that server. */
async function cluster(s: TestServer, name: string): Promise<{ config: { context?: string; namespace?: string } }> {
  const token = config().contexts.find((c) => c.server === s.url)?.token as string;
  const res = await fetch(`${s.url}/clusters/${name}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET cluster ${name}: ${res.status}`);
  return ((await res.json()) as { spec: { config: { context?: string; namespace?: string } } }).spec;
}

before(async () => {
  [a, b] = await Promise.all([startServer({ auth: true }), startServer({ auth: true })]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

test('login names contexts user@server: a second server adds one, logging in again refreshes it', async () => {
  const first = ok(await skyctl(['--server', a.url, 'login', 'admin', '--password-stdin'], password(a)));
  assert.match(first.stdout, new RegExp(`Created context "${nameOf(a)}" and switched to it`));
  const second = ok(await skyctl(['--server', b.url, 'login', 'admin', '--password-stdin'], password(b)));
  assert.match(second.stdout, new RegExp(`Created context "${nameOf(b)}"`));
  let cfg = config();
  assert.deepEqual(
    cfg.contexts.map((c) => [c.name, c.server, c.user]),
    [
      [nameOf(a), a.url, 'admin'],
      [nameOf(b), b.url, 'admin'],
    ],
  );
  assert.equal(cfg['current-context'], nameOf(b));
  const tokenA = cfg.contexts[0]?.token;

  // Both tokens work against their own server (the first was not overwritten).
  assert.match(ok(await skyctl(['whoami'])).stdout, /USER: +admin/);
  assert.match(ok(await skyctl(['--context', nameOf(a), 'whoami'])).stdout, /USER: +admin/);

  const again = ok(await skyctl(['--context', nameOf(a), 'login', 'admin', '--password-stdin'], password(a)));
  assert.match(again.stdout, new RegExp(`Refreshed context "${nameOf(a)}"`));
  cfg = config();
  assert.equal(cfg.contexts.length, 2);
  assert.equal(cfg['current-context'], nameOf(a));
  assert.notEqual(cfg.contexts[0]?.token, tokenA, 'a fresh token');
});

test('a context name that would change meaning is refused before the password is read; --context-name picks another', async () => {
  const before = readFileSync(join(home, '.skyconf', 'config.yaml'), 'utf8');
  const r = await skyctl(['--server', b.url, 'login', 'admin', '--context-name', nameOf(a), '--password-stdin'], password(b));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`context "${nameOf(a)}" already exists for user admin on ${a.url}.*--context-name`));
  assert.equal(readFileSync(join(home, '.skyconf', 'config.yaml'), 'utf8'), before, 'config untouched');
  ok(await skyctl(['--server', b.url, 'login', 'admin', '--context-name', 'bee', '--password-stdin'], password(b)));
  assert.equal(config()['current-context'], 'bee');
  assert.match(ok(await skyctl(['whoami'])).stdout, /USER: +admin/);
});

test('skyctl token prints the current (or --context) token, and the README curl snippet works with it', async () => {
  const cfg = config();
  const token = (name: string) => cfg.contexts.find((c) => c.name === name)?.token;
  assert.equal(ok(await skyctl(['token'])).stdout, `${token('bee')}\n`);
  assert.equal(ok(await skyctl(['token', '--context', nameOf(a)])).stdout, `${token(nameOf(a))}\n`);
  assert.equal(ok(await skyctl(['--context', nameOf(b), 'token'])).stdout, `${token(nameOf(b))}\n`);
  const missing = await skyctl(['token', '--context', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /context "nope" does not exist/);

  // The README block, run as written but against server b (the current context).
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```sh\n(TOKEN=\$\(npx skyctl token\)[^\n]*\ncurl [^\n]*)\n```/.exec(readme)?.[1];
  assert.ok(block, 'README has the TOKEN=$(npx skyctl token) block');
  // `npx skyctl` would run dist/ when a (possibly stale) build exists: run this tree's source instead.
  const npx = `npx() { if [ "$1" = skyctl ]; then shift; node --import tsx ${JSON.stringify(SKYCTL_BIN)} "$@"; else command npx "$@"; fi; }\n`;
  const script = npx + block.replaceAll('127.0.0.1:50051', `127.0.0.1:${b.port}`);
  let out: string;
  try {
    out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, SKYSHIFT_SERVER: '' },
      stdio: 'pipe',
    }).toString();
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`README block failed: ${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`);
  }
  assert.equal((JSON.parse(out) as { kind: string }).kind, 'JobList', out);
});

test('config view redacts tokens unless --raw; --minify keeps the current context', async () => {
  const view = YAML.parse(ok(await skyctl(['config', 'view'])).stdout) as { contexts: { token?: string }[] };
  assert.equal(view.contexts.length, 3);
  assert.ok(view.contexts.every((c) => c.token === 'REDACTED'));
  const raw = JSON.parse(ok(await skyctl(['config', 'view', '--raw', '--minify', '-o', 'json'])).stdout) as {
    'current-context': string;
    contexts: { name: string; token: string }[];
  };
  assert.equal(raw['current-context'], 'bee');
  assert.deepEqual(
    raw.contexts.map((c) => c.name),
    ['bee'],
  );
  assert.equal(raw.contexts[0]?.token, config().contexts.find((c) => c.name === 'bee')?.token);
});

test('rename-context and delete-context', async () => {
  ok(await skyctl(['config', 'rename-context', 'bee', 'b2']));
  assert.equal(config()['current-context'], 'b2');
  const clash = await skyctl(['config', 'rename-context', 'b2', nameOf(a)]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /already exists/);
  const del = ok(await skyctl(['config', 'delete-context', 'b2']));
  assert.match(del.stderr, /removed your active context/);
  assert.equal(config()['current-context'], undefined);
  assert.deepEqual(
    config().contexts.map((c) => c.name),
    [nameOf(a), nameOf(b)],
  );
  assert.equal((await skyctl(['config', 'delete-context', 'b2'])).code, 2);
  ok(await skyctl(['config', 'use-context', nameOf(b)]));
});

test('set-context --certificate-authority / --insecure-skip-tls-verify, one replacing the other', async () => {
  const ca = join(home, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
  ok(await skyctl(['config', 'set-context', 'lab', '--server', 'https://lab.example:50051', '--insecure-skip-tls-verify']));
  const lab = () => config().contexts.find((c) => c.name === 'lab');
  assert.equal(lab()?.['insecure-skip-tls-verify'], true);
  ok(await skyctl(['config', 'set-context', 'lab', '--certificate-authority', ca]));
  assert.equal(lab()?.['certificate-authority'], ca);
  assert.equal(lab()?.['insecure-skip-tls-verify'], undefined);
  const missing = await skyctl(['config', 'set-context', 'lab', '--certificate-authority', join(home, 'nope.pem')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
  const both = await skyctl(['config', 'set-context', 'lab', '--certificate-authority', ca, '--insecure-skip-tls-verify']);
  assert.equal(both.code, 2);
  ok(await skyctl(['config', 'delete-context', 'lab']));
});

test("create cluster --context is the kubeconfig context, never skyctl's (which goes before the verb)", async () => {
  ok(await skyctl(['create', 'cluster', 'kube1', '--manager', 'kubernetes', '--config', '/nonexistent/kubeconfig', '--context', 'gpu-a']));
  assert.equal((await cluster(b, 'kube1')).config.context, 'gpu-a');
  ok(await skyctl(['--context', nameOf(a), 'create', 'cluster', 'kube2', '--manager', 'kubernetes', '--context', 'gpu-b']));
  assert.equal((await cluster(a, 'kube2')).config.context, 'gpu-b', 'kube2 went to server a (the --context before the verb)');
  await assert.rejects(cluster(b, 'kube2'), /404/);
  // The original's spelling: the context as a second argument, with the k8 alias.
  ok(await skyctl(['create', 'cluster', 'edge', '--manager', 'k8', 'edge-context', '--kube-namespace', 'team']));
  const edge = await cluster(b, 'edge');
  assert.equal(edge.config.context, 'edge-context');
  assert.equal(edge.config.namespace, 'team');
  const twice = await skyctl(['create', 'cluster', 'edge2', '--manager', 'k8', 'a', '--context', 'b']);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /given twice/);
});
