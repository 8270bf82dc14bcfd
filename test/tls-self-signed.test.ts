/**
 * `skyshift server|up --tls` (issue 11, must-have 5): a self-signed CA and
 * server certificate made with node:crypto in the data dir (keys 0600, reused
 * on restart, re-issued by the same CA for new names), HTTPS served, the CA in
 * skyctl's context, and the agent-side verification (src/client/tls-pin.ts):
 * by CA file or pinned fingerprint, with host names checked, never skipped.
 * Also `skyctl create cluster --agent` over HTTPS: the printed join command
 * carries the fingerprint, and its token works (and is revoked) as printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { ensureSelfSignedTls } from '../src/bin/tls-self-signed.js';
import { SkyShiftClient } from '../src/client/index.js';
import { normalizeFingerprint, serverTls } from '../src/client/tls-pin.js';
import { freePort, waitFor } from './infra/ports.js';
import { startDaemon, type Daemon } from './infra/process.js';
import { SKYSHIFT_BIN } from './infra/server.js';
import { runSkyctl } from './infra/skyctl.js';

const dirs: string[] = [];
const daemons: Daemon[] = [];
after(async () => {
  for (const d of daemons) await d.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-tls-'));
  dirs.push(dir);
  return dir;
}

const mode = (file: string) => statSync(file).mode & 0o777;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the CA and server certificate: valid X.509, the right names, private keys 0600, reused, re-issued by the same CA', () => {
  const data = tempDir();
  const first = ensureSelfSignedTls(data, ['agent.example', '10.9.8.7', 'fe80::1:2', '::ffff:10.0.0.1']);
  assert.equal(first.action, 'created');
  assert.equal(mode(join(data, 'tls')), 0o700);
  for (const key of ['ca.key', 'server.key']) assert.equal(mode(join(data, 'tls', key)), 0o600, key);
  const ca = new X509Certificate(readFileSync(first.caFile));
  const server = new X509Certificate(first.cert);
  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'the server certificate is signed by the CA');
  assert.equal(first.fingerprint, ca.fingerprint256);
  for (const ip of ['127.0.0.1', '::1', '10.9.8.7', 'fe80::1:2', '::ffff:10.0.0.1']) assert.equal(server.checkIP(ip), ip, ip);
  assert.equal(server.checkIP('10.9.8.8'), undefined);
  for (const host of ['localhost', 'agent.example', hostname().toLowerCase()]) assert.ok(server.checkHost(host), host);
  assert.equal(server.checkHost('evil.example'), undefined);
  // The served chain carries the CA, so a client pinning its fingerprint can find it.
  assert.ok(first.cert.toString().endsWith(ca.toString()));
  if (hasOpenssl()) {
    // An independent parser agrees (openssl is only a cross-check here: SkyShift itself never runs it).
    execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', first.caFile, first.certFile], { stdio: 'pipe' });
  }

  const again = ensureSelfSignedTls(data, ['agent.example', '10.9.8.7', 'fe80::1:2', '::ffff:10.0.0.1']);
  assert.equal(again.action, 'reused');
  assert.deepEqual(again.cert, first.cert);
  const more = ensureSelfSignedTls(data, ['other.example']);
  assert.equal(more.action, 'renewed');
  assert.equal(more.fingerprint, first.fingerprint, 'a new name re-issues the server certificate, never the CA');
  assert.ok(new X509Certificate(more.cert).checkHost('other.example'));
  // Near its expiry (2 years on), the server certificate is re-issued, still by the same CA.
  const later = ensureSelfSignedTls(data, [], new Date(Date.now() + 720 * 24 * 3600_000));
  assert.equal(later.action, 'renewed');
  assert.equal(later.fingerprint, first.fingerprint);
  assert.throws(() => ensureSelfSignedTls(data, ['bad name!']), /neither an IP address nor a DNS name/);
});

test('fingerprints are accepted in any spelling, and only 64 hex digits', () => {
  const canonical = 'AB:'.repeat(31) + 'AB';
  assert.equal(normalizeFingerprint('ab'.repeat(32)), canonical);
  assert.equal(normalizeFingerprint(`sha256:${canonical.toLowerCase()}`), canonical);
  for (const bad of ['', 'ab', 'zz'.repeat(32), 'ab'.repeat(33)]) assert.throws(() => normalizeFingerprint(bad), /not a SHA-256 fingerprint/);
});

function httpsStatus(url: string, options: { ca?: string | Buffer; servername?: string } = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { ...options, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('skyshift server --tls serves HTTPS that a client verifies by CA file or by pinned fingerprint, host names included', async () => {
  const home = tempDir();
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const daemonArgs = async () => {
    const d = startDaemon(
      process.execPath,
      [
        '--import',
        'tsx',
        SKYSHIFT_BIN,
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--store',
        `sqlite:${join(home, 'db')}`,
        '--tls',
        '--tls-san',
        'agent.example',
      ],
      { logFile: join(home, 'server.log'), env: { HOME: home } },
    );
    daemons.push(d);
    const caFile = join(home, '.skyshift', 'tls', 'ca.crt');
    await waitFor(`skyshift server --tls (log ${join(home, 'server.log')})`, async () => {
      if (d.child.exitCode !== null) throw new Error(`server exited with ${d.child.exitCode}`);
      return (await httpsStatus(`${url}/readyz`, { ca: readFileSync(caFile) })) === 200;
    });
    return d;
  };
  const server = await daemonArgs();
  const caFile = join(home, '.skyshift', 'tls', 'ca.crt');
  const fingerprint = new X509Certificate(readFileSync(caFile)).fingerprint256;
  for (const key of ['ca.key', 'server.key']) assert.equal(mode(join(home, '.skyshift', 'tls', key)), 0o600);

  // Without the CA nothing trusts it; with it, only the names it was made for.
  assert.equal(await httpsStatus(`${url}/readyz`), 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.equal(await httpsStatus(`${url}/readyz`, { ca: readFileSync(caFile), servername: 'evil.example' }), 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(await httpsStatus(`https://localhost:${port}/readyz`, { ca: readFileSync(caFile) }), 200);

  const byFile = await serverTls({ server: url, caFile });
  const byPin = await serverTls({ server: url, fingerprint: fingerprint.replaceAll(':', '').toLowerCase() });
  assert.equal(String(byPin?.ca), readFileSync(caFile, 'utf8'), 'the pinned CA is the one in the data dir');
  for (const tls of [byFile, byPin]) {
    const client = new SkyShiftClient({ server: url, ...(tls ? { tls } : {}) });
    assert.ok(((await client.call('GET', '/version')) as { version?: string }).version !== undefined);
  }
  await assert.rejects(serverTls({ server: url, fingerprint: 'AB'.repeat(32) }), /presented no certificate with fingerprint AB:AB.*refusing/);
  await assert.rejects(serverTls({ server: url, caFile, fingerprint: 'AB'.repeat(32) }), /not the expected/);
  await assert.rejects(serverTls({ server: `http://127.0.0.1:${port}`, fingerprint }), /verify an https:\/\/ server/);
  assert.equal(await serverTls({ server: `http://127.0.0.1:${port}` }), undefined);
  // A plain client of an https server with no options still verifies (system CAs): it fails here, it does not skip.
  const plain = new SkyShiftClient({ server: url });
  await assert.rejects(plain.call('GET', '/version'));

  // Restarted: the same CA (pins stay valid) and the same certificate.
  const before = readFileSync(join(home, '.skyshift', 'tls', 'server.crt'));
  await server.stop();
  await daemonArgs();
  assert.equal(new X509Certificate(readFileSync(caFile)).fingerprint256, fingerprint);
  assert.deepEqual(readFileSync(join(home, '.skyshift', 'tls', 'server.crt')), before);
});

test('skyshift up --tls prints the fingerprint and writes the CA into the skyctl context; create cluster --agent prints a join command that works', async () => {
  const home = tempDir();
  const port = await freePort();
  const logFile = join(home, 'up.log');
  const up = startDaemon(
    process.execPath,
    [
      '--import',
      'tsx',
      SKYSHIFT_BIN,
      'up',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--store',
      `sqlite:${join(home, 'db')}`,
      '--no-local-cluster',
      '--no-kubeconfig',
      '--tls',
    ],
    { logFile, env: { HOME: home } },
  );
  daemons.push(up);
  const printed = await waitFor(
    `skyshift up --tls (log ${logFile})`,
    () => {
      if (up.child.exitCode !== null) throw new Error(`up exited with ${up.child.exitCode}`);
      const log = readFileSync(logFile, 'utf8');
      return /CA fingerprint \(SHA-256\): ([0-9A-F:]{95})/.exec(log)?.[1];
    },
    60_000,
  );
  const caFile = join(home, '.skyshift', 'tls', 'ca.crt');
  assert.equal(printed, new X509Certificate(readFileSync(caFile)).fingerprint256);
  const config = YAML.parse(readFileSync(join(home, '.skyconf', 'config.yaml'), 'utf8')) as { contexts: Array<Record<string, string>> };
  const context = config.contexts.find((c) => c.name === 'admin-default');
  assert.equal(context?.server, `https://127.0.0.1:${port}`);
  assert.equal(context?.['certificate-authority'], caFile);

  const get = await runSkyctl(['get', 'clusters'], { home, timeoutMs: 30_000 });
  assert.equal(get.code, 0, get.stderr);

  const tokenFile = join(home, 'lab.token');
  const created = await runSkyctl(['create', 'cluster', 'lab', '--agent', '--token-out', tokenFile], { home, timeoutMs: 30_000 });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^cluster\/lab created$/m);
  assert.ok(
    created.stdout.includes(`npx skyshift agent --server https://127.0.0.1:${port} --token-file ${tokenFile} --cluster lab --fingerprint ${printed}`),
    created.stdout,
  );
  assert.equal(mode(tokenFile), 0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  // The join command's own inputs: the pinned fingerprint, the token from the file.
  const tls = await serverTls({ server: `https://127.0.0.1:${port}`, fingerprint: printed });
  const agent = new SkyShiftClient({ server: `https://127.0.0.1:${port}`, token, ...(tls ? { tls } : {}) });
  const clusters = (await agent.call('GET', '/clusters')) as { items: Array<{ metadata: { name: string }; spec: { agent?: boolean; manager: string } }> };
  assert.deepEqual(
    clusters.items.map((c) => [c.metadata.name, c.spec.manager, c.spec.agent]),
    [['lab', 'local', true]],
  );

  // The real `skyshift agent`, verifying the server by the printed fingerprint, joins: its Cluster turns READY.
  const agentArgs = (fp: string, log: string) =>
    startDaemon(
      process.execPath,
      [
        '--import',
        'tsx',
        SKYSHIFT_BIN,
        'agent',
        '--server',
        `https://127.0.0.1:${port}`,
        '--token-file',
        tokenFile,
        '--cluster',
        'lab',
        '--fingerprint',
        fp,
      ].concat(['--cpus', '1', '--memory', '1Gi', '--workdir', join(home, 'agent-work'), '--heartbeat-seconds', '1']),
      { logFile: join(home, log), env: { HOME: join(home, 'agent-home') } },
    );
  const joined = agentArgs(printed, 'agent.log');
  daemons.push(joined);
  const admin = new SkyShiftClient({ server: `https://127.0.0.1:${port}`, token: context!.token!, tls: { ca: readFileSync(caFile) } });
  await waitFor(
    `cluster lab READY through the agent (log ${join(home, 'agent.log')})`,
    async () => ((await admin.call('GET', '/clusters/lab')) as { status?: { phase?: string } }).status?.phase === 'READY',
    60_000,
    500,
  );
  await joined.stop();
  // A wrong pin: the agent refuses to talk to the server at all.
  const refused = agentArgs('AB'.repeat(32), 'agent-wrong.log');
  daemons.push(refused);
  await waitFor('the agent with a wrong fingerprint to exit', () => refused.child.exitCode !== null, 60_000, 200);
  assert.notEqual(refused.child.exitCode, 0);
  assert.match(readFileSync(join(home, 'agent-wrong.log'), 'utf8'), /no certificate with fingerprint AB:AB.*refusing/);

  const shown = await runSkyctl(['create', 'agent-token', 'lab'], { home, timeoutMs: 30_000 });
  assert.equal(shown.code, 0, shown.stderr);
  const second = /shown once[^\n]*\n(\S+)\n/.exec(shown.stdout)?.[1];
  assert.ok(second, shown.stdout);
  const revoke = await runSkyctl(['revoke-agent-tokens', 'lab'], { home, timeoutMs: 30_000 });
  assert.equal(revoke.code, 0, revoke.stderr);
  for (const t of [token, second]) {
    const revoked = new SkyShiftClient({ server: `https://127.0.0.1:${port}`, token: t, ...(tls ? { tls } : {}) });
    await assert.rejects(revoked.call('GET', '/clusters'), /invalid or expired token/);
  }
  const usage = await runSkyctl(['create', 'cluster', 'k', '--agent', '--manager', 'kubernetes'], { home, timeoutMs: 30_000 });
  assert.equal(usage.code, 2, usage.stderr);
});
