/**
 * The agents' end-to-end lab: a control plane (`skyshift up`) in one network
 * namespace listening on its namespace address, and one `skyshift agent` per
 * agent namespace, joined with tokens from `skyctl create cluster NAME --agent`.
 * The test process is the operator: it reaches the control plane over its own
 * leg on the lab network (test/infra/netns.ts), never an agent directly.
 *
 * Namespaces share the filesystem: every host has its own HOME under the
 * test dir, and `shared` is a directory every replica may write (markers).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { loadConfig } from '../../src/cli/index.js';
import { SkyShiftClient } from '../../src/client/index.js';
import { createNetnsLab, type NetnsLab } from '../infra/netns.js';
import { waitFor } from '../infra/ports.js';
import type { Daemon } from '../infra/process.js';
import { REPO_ROOT, SKYSHIFT_BIN } from '../infra/server.js';
import { runSkyctl, spawnSkyctl, type SkyctlRun } from '../infra/skyctl.js';
import { tail } from '../infra/skyshift.js';

export const API_PORT = 50051; // the control plane has its namespace to itself

export interface AgentLabOptions {
  /** Agent hosts; each joins as the cluster of the same name. Default a1, a2, a3. */
  agents?: string[];
  /** Extra `skyshift up` flags. */
  upArgs?: string[];
  /** Extra `skyshift agent` flags for every agent. */
  agentArgs?: string[];
  heartbeatSeconds?: number;
  /**
   * `skyshift up --tls --tls-san <its address>`: HTTPS with the self-signed CA; the agents pin it with the
   * `--fingerprint` the join command carries; the operator's client and skyctl trust the CA file.
   */
  tls?: boolean;
}

export interface AgentLab {
  readonly lab: NetnsLab;
  readonly dir: string;
  readonly shared: string;
  /** http://<control plane address>:50051 */
  readonly url: string;
  /** The admin, as `skyshift up` wrote it. */
  readonly client: SkyShiftClient;
  readonly adminToken: string;
  /** With `tls`: the CA's PEM (for more clients). */
  readonly ca: Buffer | undefined;
  /** A client acting with `token` (an agent's, say). */
  clientFor(token: string): SkyShiftClient;
  /** skyctl as the admin, from the operator's machine. */
  skyctl(args: string[], timeoutMs?: number): Promise<SkyctlRun>;
  spawnSkyctl(args: string[]): ChildProcessWithoutNullStreams;
  /** `skyctl create cluster NAME --agent --token-out <dir>/NAME.token`: the token file the agent host reads. */
  join(cluster: string): Promise<{ token: string; file: string; output: string }>;
  /** Start `skyshift agent` in host `host` for cluster `cluster` (default: the host's name). */
  startAgent(host: string, options?: { cluster?: string; tokenFile?: string; workdir?: string; args?: string[] }): Daemon;
  agent(host: string): Daemon | undefined;
  /** The agent's work dir: replicas run below it. */
  workdir(host: string): string;
  restartServer(): Promise<void>;
  /** 'cp', an agent host, or 'host:cluster' for a second agent started in a host. */
  logTail(key: string, lines?: number): string;
  cleanup(): Promise<void>;
}

export async function startAgentLab(options: AgentLabOptions = {}): Promise<AgentLab> {
  const agents = options.agents ?? ['a1', 'a2', 'a3'];
  const hb = String(options.heartbeatSeconds ?? 1);
  const lab = createNetnsLab({ hosts: ['cp', ...agents] });
  const dir = mkdtempSync(join(tmpdir(), 'skyshift-agents-'));
  // Replicas may run as an unprivileged user: they must enter the dirs to their work dirs and write markers.
  chmodSync(dir, 0o711);
  const shared = join(dir, 'shared');
  mkdirSync(shared, { mode: 0o777 });
  chmodSync(shared, 0o777);
  for (const h of ['cp', ...agents]) mkdirSync(join(dir, h), { mode: 0o711 });
  const cpIp = lab.host('cp').ip;
  const url = `${options.tls ? 'https' : 'http'}://${cpIp}:${API_PORT}`;
  const caFile = join(dir, 'cp', '.skyshift', 'tls', 'ca.crt');
  let ca: Buffer | undefined;
  const cpHome = join(dir, 'cp');
  const daemons = new Map<string, Daemon>();
  const fingerprints = new Map<string, string>();
  const clientFor = (token?: string) => new SkyShiftClient({ server: url, ...(token ? { token } : {}), ...(ca ? { tls: { ca } } : {}) });
  let client = clientFor();
  let adminToken = '';

  const upArgs = [
    '--import',
    'tsx',
    SKYSHIFT_BIN,
    'up',
    '--host',
    cpIp,
    '--port',
    String(API_PORT),
    '--store',
    `sqlite:${join(cpHome, 'db')}`,
    '--no-local-cluster',
    '--no-kubeconfig',
    '--heartbeat-seconds',
    hb,
    '--eviction-grace-seconds',
    '3',
    ...(options.tls ? ['--tls', '--tls-san', cpIp] : []),
    ...(options.upArgs ?? []),
  ];
  const startServer = async () => {
    // The control plane is another machine: it cannot read the agents' disks (their work dirs and logs), so
    // logs, exec and port-forward can only reach replicas through the agents' tunnels.
    const hide = agents.map((a) => join(dir, a));
    const d = lab.spawn('cp', process.execPath, upArgs, { logFile: join(cpHome, 'skyshift.log'), env: { HOME: cpHome }, cwd: REPO_ROOT, hide });
    daemons.set('cp', d);
    await waitFor(
      `skyshift up on ${url}`,
      async () => {
        if (d.child.exitCode !== null) throw new Error(`skyshift up exited ${d.child.exitCode}: ${tail(join(cpHome, 'skyshift.log'), 20)}`);
        if (options.tls && existsSync(caFile)) ca = readFileSync(caFile);
        const ready = options.tls && !ca ? false : await readyz(url, ca);
        const token = ready ? loadConfig(join(cpHome, '.skyconf', 'config.yaml')).contexts.find((c) => c.name === 'admin-default')?.token : undefined;
        if (token) {
          adminToken = token;
          client = clientFor(token);
        }
        return Boolean(token);
      },
      60_000,
      200,
    );
  };

  const instance: AgentLab = {
    lab,
    dir,
    shared,
    url,
    get client() {
      return client;
    },
    get adminToken() {
      return adminToken;
    },
    get ca() {
      return ca;
    },
    clientFor: (token) => clientFor(token),
    skyctl: (args, timeoutMs = 30_000) => runSkyctl(args, { home: cpHome, server: url, timeoutMs }),
    spawnSkyctl: (args) => spawnSkyctl(args, { home: cpHome, server: url }),
    async join(cluster) {
      const file = join(dir, `${cluster}.token`);
      const r = await runSkyctl(['create', 'cluster', cluster, '--agent', '--token-out', file], { home: cpHome, server: url, timeoutMs: 30_000 });
      const output = r.stdout + r.stderr;
      if (r.code !== 0) throw new Error(`skyctl create cluster ${cluster} --agent failed (${r.code}): ${output}`);
      // The join command it prints is the one the agent host runs.
      if (!output.includes(`skyshift agent --server ${url} --token-file ${file} --cluster ${cluster}`)) throw new Error(`no join command in:\n${output}`);
      if (options.tls) {
        // The agent pins the server's CA by the fingerprint the join command carries.
        const fp = /--fingerprint (\S+)/.exec(output)?.[1];
        if (!fp) throw new Error(`no --fingerprint in the join command over https:\n${output}`);
        fingerprints.set(cluster, fp);
      }
      const token = readFileSync(file, 'utf8').trim();
      if ((statSync(file).mode & 0o777) !== 0o600) throw new Error(`${file} should be mode 0600`);
      return { token, file, output };
    },
    startAgent(host, opts = {}) {
      const cluster = opts.cluster ?? host;
      // A second agent in a host (another cluster) gets its own HOME, key and log.
      const home = cluster === host ? join(dir, host) : join(dir, host, `home-${cluster}`);
      mkdirSync(home, { recursive: true, mode: 0o711 });
      const args = [
        '--import',
        'tsx',
        SKYSHIFT_BIN,
        'agent',
        '--server',
        url,
        '--token-file',
        opts.tokenFile ?? join(dir, `${cluster}.token`),
        '--cluster',
        cluster,
        '--workdir',
        opts.workdir ?? instance.workdir(host),
        '--heartbeat-seconds',
        hb,
        ...(options.tls ? ['--fingerprint', fingerprints.get(cluster) ?? [...fingerprints.values()][0] ?? ''] : []),
        ...(options.agentArgs ?? []),
        ...(opts.args ?? []),
      ];
      const key = cluster === host ? host : `${host}:${cluster}`;
      const d = lab.spawn(host, process.execPath, args, { logFile: join(home, 'agent.log'), env: { HOME: home }, cwd: REPO_ROOT });
      daemons.set(key, d);
      return d;
    },
    agent: (host) => daemons.get(host),
    workdir: (host) => join(dir, host, 'work'),
    async restartServer() {
      await daemons.get('cp')?.stop(10_000);
      await startServer();
    },
    logTail(key, lines = 30) {
      // 'cp', an agent host, or 'host:cluster' for a second agent started in a host.
      const [host = key, cluster] = key.split(':');
      if (host === 'cp') return tail(join(cpHome, 'skyshift.log'), lines);
      return tail(join(dir, host, ...(cluster && cluster !== host ? [`home-${cluster}`] : []), 'agent.log'), lines);
    },
    async cleanup() {
      await Promise.all([...daemons.values()].map((d) => d.stop(5000)));
      await lab.destroy(); // also kills the replicas: they run inside the namespaces
      if (!process.env['SKYSHIFT_E2E_KEEP']) rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await startServer();
  } catch (err) {
    await instance.cleanup();
    throw err;
  }
  return instance;
}

/** GET /readyz (over https with `ca` when given): true on 200. */
function readyz(url: string, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https') ? httpsGet : httpGet)(`${url}/readyz`, { ...(ca ? { ca } : {}), timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}
