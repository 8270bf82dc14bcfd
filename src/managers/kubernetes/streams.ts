/**
 * Logs, exec and port-forward of a task, through the Kubernetes API's own
 * streaming endpoints (pods/log; pods/exec and pods/portforward over
 * WebSocket, the channel protocol spoken by client-node). These serve user
 * requests in the API server, which has no informer of its own: the task's
 * pod is found with one labelled list call.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { Exec, PortForward, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { sleep } from '../../lib/index.js';
import type { ExecOptions, ExecSession } from '../capabilities.js';
import { ManagerError } from '../errors.js';
import type { JobRef, LogOptions } from '../types.js';
import { CONTAINER, jobSelector } from './pods.js';
import type { KubePod } from './resources.js';
import { type KubeRest, managerError } from './rest.js';
import { podRanks } from './tasks.js';
import { taskName } from '../../api/index.js';

export interface StreamTarget {
  cluster: string;
  namespace: string;
  rest: KubeRest;
  kubeconfig: KubeConfig;
}

/** The pod running `task` of the job (one list call), or a NotFound naming the task. */
export async function findPod(t: StreamTarget, ref: JobRef, task: string, signal?: AbortSignal): Promise<KubePod> {
  let list: { items?: KubePod[] };
  try {
    list = await t.rest.json<{ items?: KubePod[] }>(`/api/v1/namespaces/${t.namespace}/pods`, {
      query: { labelSelector: jobSelector(t.cluster, ref) },
      signal,
    });
  } catch (err) {
    throw managerError(t.cluster, err);
  }
  let best: KubePod | undefined;
  for (const [pod, rank] of podRanks(list.items ?? [])) {
    if (taskName(ref.name, rank) !== task) continue;
    // A terminating pod next to its replacement: the replacement is the task now.
    if (!best || (best.metadata.deletionTimestamp && !pod.metadata.deletionTimestamp)) best = pod;
  }
  if (!best) throw new ManagerError('NotFound', `task '${task}' of job '${ref.namespace}/${ref.name}' has no pod on cluster '${t.cluster}'`);
  return best;
}

/** Waits while the pod is Pending (a follow on a replica not started yet waits for it, as `kubectl logs -f` users expect). */
async function untilStarted(t: StreamTarget, ref: JobRef, task: string, signal: AbortSignal | undefined): Promise<KubePod> {
  for (;;) {
    const pod = await findPod(t, ref, task, signal);
    if (pod.status?.phase !== 'Pending' && pod.status?.phase !== undefined) return pod;
    if (!(await sleep(1000, signal))) return pod;
  }
}

export async function* podLogs(t: StreamTarget, ref: JobRef, options: LogOptions): AsyncGenerator<string> {
  const task = options.task;
  if (task === undefined) throw new ManagerError('BadRequest', `cluster '${t.cluster}': logs need a task`);
  const pod = options.follow ? await untilStarted(t, ref, task, options.signal) : await findPod(t, ref, task, options.signal);
  if (pod.status?.phase === 'Pending' || pod.status?.phase === undefined) return;
  const path = `/api/v1/namespaces/${t.namespace}/pods/${pod.metadata.name}/log`;
  const query = { container: CONTAINER, follow: options.follow ? 'true' : undefined, tailLines: options.tail };
  let res;
  try {
    res = await t.rest.stream(path, { query, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    throw managerError(t.cluster, err);
  }
  const lines = createInterface({ input: res, crlfDelay: Infinity });
  const stop = () => res.destroy();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const line of lines) yield line;
  } catch (err) {
    if (!options.signal?.aborted) throw err;
  } finally {
    options.signal?.removeEventListener('abort', stop);
    lines.close();
    res.destroy();
  }
}

function mustRun(t: StreamTarget, pod: KubePod, task: string): void {
  if (pod.status?.phase !== 'Running') {
    throw new ManagerError(
      'Conflict',
      `task '${task}' on cluster '${t.cluster}' is not running (pod ${pod.metadata.name} is ${pod.status?.phase ?? 'Pending'})`,
    );
  }
}

/** The exit code in an exec's final Status: Success -> 0; NonZeroExitCode -> its ExitCode cause. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

/** Channel 4 of the channel protocol: terminal size. */
const RESIZE_CHANNEL = 4;

export async function podExec(t: StreamTarget, ref: JobRef, options: ExecOptions): Promise<ExecSession> {
  const pod = await findPod(t, ref, options.task, options.signal);
  mustRun(t, pod, options.task);
  // Not a resizable stream for client-node: it would send a made-up 80x24 first; the client's own size is sent on resize().
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let settle: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => (settle = resolve));
  let ws;
  try {
    ws = await new Exec(t.kubeconfig).exec(
      t.namespace,
      pod.metadata.name,
      CONTAINER,
      options.command,
      stdout,
      options.tty ? null : stderr,
      stdin,
      options.tty ?? false,
      (status) => settle(exitCodeOf(status)),
    );
  } catch (err) {
    throw managerError(t.cluster, err);
  }
  ws.on('close', () => {
    stdout.end();
    stderr.end();
    // Closed without a final Status (connection lost): no exit code was reported.
    settle(-1);
  });
  options.signal?.addEventListener('abort', () => ws.close(), { once: true });
  if (options.tty) stderr.end();
  return {
    stdin: Writable.toWeb(stdin),
    stdout: Readable.toWeb(stdout) as ReadableStream<Uint8Array>,
    stderr: Readable.toWeb(stderr) as ReadableStream<Uint8Array>,
    exitCode,
    resize(columns, rows) {
      if (!options.tty || ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([RESIZE_CHANNEL]), Buffer.from(JSON.stringify({ Width: columns, Height: rows }))]));
    },
  };
}

export async function podPortForward(
  t: StreamTarget,
  ref: JobRef,
  options: { task: string; port: number; signal?: AbortSignal },
): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
  const pod = await findPod(t, ref, options.task, options.signal);
  mustRun(t, pod, options.task);
  const output = new PassThrough();
  const input = new PassThrough();
  // The error channel: the kubelet says why it could not connect (e.g. nothing listens on the pod's port); end the stream with it.
  const errors = new PassThrough();
  let ws;
  try {
    ws = (await new PortForward(t.kubeconfig).portForward(t.namespace, pod.metadata.name, [options.port], output, errors, input)) as {
      on(event: 'close', fn: () => void): void;
      close(): void;
    };
  } catch (err) {
    throw managerError(t.cluster, err);
  }
  const socket = ws;
  errors.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8').trim();
    if (text === '') return;
    output.destroy(new ManagerError('ServiceUnavailable', `cluster '${t.cluster}': port ${options.port} of task '${options.task}': ${text.slice(0, 300)}`));
    socket.close();
  });
  socket.on('close', () => output.end());
  output.on('close', () => socket.close());
  options.signal?.addEventListener('abort', () => socket.close(), { once: true });
  return { readable: Readable.toWeb(output) as ReadableStream<Uint8Array>, writable: Writable.toWeb(input) };
}
