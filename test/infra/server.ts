/** Start a real `skyshift server` process on a free loopback port for integration tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { startDaemon, type Daemon } from './process.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const SKYSHIFT_BIN = join(REPO_ROOT, 'src/bin/skyshift.ts');
export const SKYCTL_BIN = join(REPO_ROOT, 'src/bin/skyctl.ts');

export interface TestServer {
  url: string;
  port: number;
  dir: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/**
 * `store` defaults to a fresh SQLite file in a temp dir. Auth is off (`--no-auth`)
 * unless `auth: true`: these suites test the resource API, test/auth-routes.test.ts
 * tests authentication and authorisation.
 */
export async function startServer(
  /** `root`: the source tree whose src/bin/skyshift.ts runs (bench/compare.ts: a worktree of an older commit); default this repo. */
  options: { store?: string; dir?: string; port?: number; extraArgs?: string[]; auth?: boolean; root?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'skyshift-test-'));
  const port = options.port ?? (await freePort());
  const store = options.store ?? `sqlite:${join(dir, 'skyshift.db')}`;
  const bin = options.root ? join(options.root, 'src/bin/skyshift.ts') : SKYSHIFT_BIN;
  const daemon = startDaemon(
    process.execPath,
    [
      '--import',
      'tsx',
      bin,
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--store',
      store,
      ...(options.auth ? [] : ['--no-auth']),
      ...(options.extraArgs ?? []),
    ],
    { logFile: join(dir, 'server.log'), env: { HOME: dir }, ...(options.root ? { cwd: options.root } : {}) },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`skyshift server on ${url} (log: ${join(dir, 'server.log')})`, async () => {
    if (daemon.child.exitCode !== null) throw new Error(`server exited with ${daemon.child.exitCode}`);
    const res = await fetch(`${url}/readyz`);
    return res.ok;
  });
  return { url, port, dir, daemon, stop: () => daemon.stop() };
}
