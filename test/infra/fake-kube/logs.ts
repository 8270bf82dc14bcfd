/**
 * GET pods/{name}/log of the FAKE Kubernetes API server: the per-pod log file the fake kubelet writes, with container,
 * tailLines, limitBytes, previous and follow (follow ends when the container's process ends or the client goes away),
 * and the real 400 messages for a container that has not started or does not exist.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { FakeKubelet, PodRuntime } from './kubelet.js';
import { badRequest, notFound } from './status.js';
import type { FakeStore } from './store.js';
import type { Pod } from './types.js';

export interface LogRequest {
  namespace: string;
  name: string;
  container?: string;
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
}

const POLL_MS = 100;

/** Reads bytes [from, to) of an open file. */
function readRange(fd: number, from: number, to: number): Buffer {
  if (to <= from) return Buffer.alloc(0);
  const buf = Buffer.alloc(to - from);
  const n = readSync(fd, buf, 0, buf.length, from);
  return buf.subarray(0, n);
}

/** Byte offset where the last `n` lines of the file's first `size` bytes start. */
function tailOffset(fd: number, size: number, n: number): number {
  if (n <= 0) return size;
  const data = readRange(fd, Math.max(0, size - 8 * 1024 * 1024), size);
  const base = size - data.length;
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let lines = 0;
  for (let i = end - 1; i >= 0; i--) if (data[i] === 0x0a && ++lines === n) return base + i + 1;
  return base;
}

export function serveLogs(store: FakeStore, kubelet: FakeKubelet, q: LogRequest, res: ServerResponse): void {
  const pod = store.get('pods', q.namespace, q.name) as Pod | undefined;
  if (!pod) throw notFound('pods', '', q.name);
  const names = pod.spec.containers.map((c) => c.name);
  const container = q.container ?? names[0]!;
  if (!q.container && names.length > 1) throw badRequest(`a container name must be specified for pod ${q.name}, choose one of: [${names.join(' ')}]`);
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${q.name}`);
  const rt = kubelet.runtimeOf(q.namespace, q.name);
  const path = rt ? (q.previous ? `${rt.logPath}.previous` : rt.logPath) : undefined;
  if (q.previous && (!path || !existsSync(path))) throw badRequest(`previous terminated container "${container}" in pod "${q.name}" not found`);
  if (!path || !existsSync(path)) {
    throw badRequest(`container "${container}" in pod "${q.name}" is waiting to start: ContainerCreating`);
  }
  // one descriptor for the whole response: a restart renames the file to .previous, and this keeps reading the same one
  const fd = openSync(path, 'r');
  let closed = false;
  const close = () => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  let offset = q.tailLines !== undefined ? tailOffset(fd, fstatSync(fd).size, q.tailLines) : 0;
  let budget = q.limitBytes ?? Number.POSITIVE_INFINITY;
  const pump = (): boolean => {
    const size = fstatSync(fd).size;
    const chunk = readRange(fd, offset, Math.min(size, offset + Math.min(budget, 1024 * 1024)));
    offset += chunk.length;
    budget -= chunk.length;
    if (chunk.length > 0) res.write(chunk);
    return chunk.length > 0 && budget > 0;
  };
  while (pump());
  if (!q.follow || q.previous || budget <= 0 || !rt) {
    close();
    return void res.end();
  }
  const starts = rt.starts;
  const alive = (r: PodRuntime) => kubelet.runtimeOf(q.namespace, q.name) === r && r.starts === starts && r.proc !== undefined;
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) return void clearInterval(timer);
    if (res.writableLength > 4 * 1024 * 1024) return; // client slow: wait for it, never buffer without bound
    const running = alive(rt);
    while (pump());
    if (!running || budget <= 0) {
      clearInterval(timer);
      close();
      res.end();
    }
  }, POLL_MS);
  res.on('close', () => {
    clearInterval(timer);
    close();
  });
}
