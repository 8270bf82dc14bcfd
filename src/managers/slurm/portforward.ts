/**
 * `port-forward` to a running Slurm task: one TCP connection to the port on
 * the task's compute node. Here (no `host`) SkyShift connects itself; with
 * `host` the login node does, through `ssh -W node:port`, whose stdin and
 * stdout are the byte stream (compute nodes are seldom reachable from
 * outside, but always from the login node).
 *
 * The node's address is Slurm's NodeAddr (`sinfo -o %o`), which is what
 * slurmctld itself uses to reach the node; the node name when unset.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';
import { ManagerError } from '../errors.js';
import type { JobRef } from '../types.js';
import { runningTask, type TaskAccess } from './exec.js';

/** A connection the task's port does not accept within this is refused as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
const KILL_GRACE_MS = 2_000;

type Stream = { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

export async function forwardToTask(access: TaskAccess, job: JobRef, options: { task: string; port: number; signal?: AbortSignal }): Promise<Stream> {
  const { port, task, signal } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ManagerError('BadRequest', `port ${port} must be an integer in 1..65535`);
  const t = await runningTask(access, job, task, signal);
  const address = await nodeAddress(access, t.node, signal);
  const unreachable = (why: string) =>
    new ManagerError(
      'ServiceUnavailable',
      `task '${task}' of job '${job.namespace}/${job.name}': cannot connect to port ${port} on node ${t.node} of cluster '${access.cluster}': ${why}`,
    );
  return access.runner.remote ? overSsh(access, address, port, signal) : direct(address, port, signal, unreachable);
}

/** NodeAddr of the node (a single node name from squeue %N), else the name itself. */
async function nodeAddress(access: TaskAccess, node: string, signal?: AbortSignal): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(node)) throw new ManagerError('ServiceUnavailable', `cluster '${access.cluster}': unexpected node list '${node}'`);
  const r = await access.runner.run(['sinfo', '-h', '-N', '-n', node, '-o', '%o'], { signal });
  const addr = r.code === 0 ? (r.stdout.trim().split('\n')[0] ?? '').trim() : '';
  return /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(addr) ? addr : node;
}

function direct(host: string, port: number, signal: AbortSignal | undefined, unreachable: (why: string) => Error): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host, port, ...(signal ? { signal } : {}) });
    const timer = setTimeout(() => s.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      signal?.addEventListener('abort', () => s.destroy(), { once: true });
      const { readable, writable } = Duplex.toWeb(s);
      resolve({ readable: readable as ReadableStream<Uint8Array>, writable: writable as WritableStream<Uint8Array> });
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unreachable(err.code === 'ECONNREFUSED' ? 'nothing listens there' : err.message));
    });
  });
}

/**
 * `ssh -W host:port` to the login node. ssh reports a refused connection only
 * on stderr and by exiting, so the streams are handed out at once and simply
 * end; the child is killed when the session is abandoned.
 */
function overSsh(access: TaskAccess, host: string, port: number, signal: AbortSignal | undefined): Stream {
  const { file, args, env } = access.runner.tunnelArgv(host, port);
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => undefined);
  child.stdout.on('error', () => undefined);
  child.on('error', () => undefined);
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  signal?.addEventListener('abort', stop, { once: true });
  child.once('close', () => signal?.removeEventListener('abort', stop));
  const readable = Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>;
  const writable = Writable.toWeb(child.stdin) as WritableStream<Uint8Array>;
  return { readable, writable };
}
