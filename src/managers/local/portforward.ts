/**
 * `port-forward` to a local replica: local replicas (and podman ones, run with
 * --network=host) share the host's network, so a task's port is a TCP port on
 * this host's loopback. One call is one TCP connection.
 */
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ManagerError } from '../errors.js';
import type { JobRef } from '../types.js';
import { runningReplica, type ReplicaAccess } from './exec.js';

/** A connection the task's port does not accept within this is refused as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function forwardToReplica(
  access: ReplicaAccess,
  job: JobRef,
  options: { task: string; port: number; signal?: AbortSignal },
): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
  const { port, task } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ManagerError('BadRequest', `port ${port} must be an integer in 1..65535`);
  await runningReplica(access, job, task);
  const socket = await open(port, options.signal);
  options.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
  socket.once('error', () => undefined);
  const { readable, writable } = Duplex.toWeb(socket);
  return { readable: readable as ReadableStream<Uint8Array>, writable: writable as WritableStream<Uint8Array> };

  function open(p: number, signal: AbortSignal | undefined): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: p, ...(signal ? { signal } : {}) });
      const timer = setTimeout(() => s.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      s.once('connect', () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = err.code === 'ECONNREFUSED' ? 'nothing listens there' : err.message;
        reject(
          new ManagerError(
            'ServiceUnavailable',
            `task '${task}' of job '${job.namespace}/${job.name}': cannot connect to port ${p} on cluster '${access.cluster}': ${why}`,
          ),
        );
      });
    });
  }
}
