/**
 * skyctl run as a real process, the way a user runs it. HOME is always given,
 * so ~/.skyconf is the test's own; SKYSHIFT_SERVER is blanked so the caller's
 * environment cannot pick the server, and NO_COLOR keeps output comparable.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { REPO_ROOT, SKYCTL_BIN } from './server.js';

export interface SkyctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SkyctlOptions {
  /** HOME of the process: skyctl reads its contexts from ~/.skyconf there. */
  home: string;
  /** Passed as `--server URL`; without it skyctl uses the current context in HOME's config. */
  server?: string;
  /** Added last, so it can override HOME, SKYSHIFT_SERVER and NO_COLOR. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin before it is closed (for `-f -`). */
  input?: string;
}

/**
 * Start skyctl without waiting for it, for commands that stream until
 * interrupted (`get -w`, `logs -f`). stdin gets `input` (or nothing) and is
 * closed at once, so a command reading `-f -` sees EOF instead of hanging.
 */
export function spawnSkyctl(args: string[], options: SkyctlOptions): ChildProcessWithoutNullStreams {
  const serverArgs = options.server === undefined ? [] : ['--server', options.server];
  const child = spawn(process.execPath, ['--import', 'tsx', SKYCTL_BIN, ...serverArgs, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOME: options.home, SKYSHIFT_SERVER: '', NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(options.input ?? '');
  return child;
}

/**
 * Run skyctl to completion and collect its exit code and output. With
 * `timeoutMs` it is SIGKILLed after that long (the run then has code null).
 */
export function runSkyctl(args: string[], options: SkyctlOptions & { timeoutMs?: number }): Promise<SkyctlRun> {
  return new Promise((resolve, reject) => {
    const child = spawnSkyctl(args, options);
    let stdout = '';
    let stderr = '';
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fail the test with skyctl's output unless it exited 0; returns the run for chaining. */
export function ok(r: SkyctlRun): SkyctlRun {
  assert.equal(r.code, 0, `skyctl failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}
