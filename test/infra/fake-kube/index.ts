/**
 * The FAKE Kubernetes API server for tests (no real Kubernetes can run here). startFakeKube runs it as its own process
 * (so a test can SIGSTOP it while pods keep running); createFakeKubeServer runs it in the test's process.
 * See docs/fake-kube.md for what it implements and what it does not.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeKubeOptions } from './types.js';

export { createFakeKubeServer, type FakeKubeServer } from './server.js';
export { writeKubeconfig, type KubeconfigContext } from './kubeconfig.js';
export type { FakeKubeOptions, FakeNodeSpec, KubeObject, Pod, Node } from './types.js';

export interface FakeKube {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Request counts by `<verb> <resource>` (e.g. `list pods`, `watch pods`, `update pods/status`, `log pods`). */
  requests(): Promise<Record<string, number>>;
  resetRequests(): Promise<void>;
  /** SIGSTOP the API server: the API is unreachable (connections hang), pods keep running. */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  /** Stops the API server and kills every pod process. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export async function startFakeKube(opts: FakeKubeOptions): Promise<FakeKube> {
  mkdirSync(opts.dir, { recursive: true });
  const log = createWriteStream(join(opts.dir, 'fake-kube.log'), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(opts)], {
    cwd: REPO,
    env: { ...process.env, FAKE_KUBE_PARENT_PIPE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'], // stdin stays open while this process lives (see main.ts)
    detached: true, // its own process group: pause() stops only the API server
  });
  child.stderr.pipe(log);
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`fake-kube did not start in 30 s; see ${join(opts.dir, 'fake-kube.log')}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /FAKE_KUBE_LISTENING (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.pipe(log);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fake-kube exited with ${code} before listening; see ${join(opts.dir, 'fake-kube.log')}`));
    });
  });
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  };
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    async requests() {
      const res = await fetch(`${url}/fake/requests`, { headers });
      return (await res.json()) as Record<string, number>;
    },
    async resetRequests() {
      await fetch(`${url}/fake/requests/reset`, { method: 'POST', headers });
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async stop() {
      signal('SIGCONT');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      killRecordedPods(opts.dir); // in case the server died without killing them
    },
  };
}

/** SIGKILLs the process group of every pod the fake kubelet recorded under `dir` (pods/<pod>/pid). */
export function killRecordedPods(dir: string): void {
  const pods = join(dir, 'pods');
  if (!existsSync(pods)) return;
  for (const d of readdirSync(pods)) {
    const file = join(pods, d, 'pid');
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
