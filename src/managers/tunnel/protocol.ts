/**
 * What travels in one tunnel stream (the stream layer is src/network/tunnel):
 * the request the API server opens it with, and the meaning of its channels.
 * Shared by the server side (TunnelManager, the opener) and the agent side
 * (src/network/tunnel/serve.ts, the acceptor), so it is written down once.
 *
 *   channel 0  control: JSON messages
 *              agent -> server: {"ready":true} once exec/port-forward started, {"exitCode":N} when a command ended
 *              server -> agent: {"resize":{"columns":C,"rows":R}}, {"stdinEnd":true}
 *   channel 1  the data: log text (whole lines), stdout / stdin, a forwarded connection's bytes
 *   channel 2  stderr
 *
 * A failure is a RESET of the stream carrying the ApiError's reason and
 * message (404 no such task, 409 not running, 501 no such capability...).
 * The server half-closes a port-forward when its client does; the agent
 * half-closes when the command or connection is done.
 */
import type { JobRef } from '../types.js';

export const CHANNEL = { control: 0, data: 1, stderr: 2 } as const;

export type TunnelRequest =
  | { op: 'logs'; job: JobRef; follow: boolean; tail?: number; task?: string }
  | { op: 'exec'; job: JobRef; task: string; command: string[]; tty: boolean }
  | { op: 'portForward'; job: JobRef; task: string; port: number };

export type ControlMessage = { ready: true } | { exitCode: number } | { resize: { columns: number; rows: number } } | { stdinEnd: true };

/** Arguments of one exec command (a command line, not a script). */
const MAX_ARGS = 1024;
const MAX_STRING = 4096;
/** Task names are `<job>-<rank>`; the manager checks the task exists, this only keeps paths and odd bytes out. */
const TASK_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]{0,252}$/;

/** The request as the agent accepts it, or why not (the agent checks what it is asked, even by its own server). */
export function parseTunnelRequest(raw: unknown): TunnelRequest | string {
  if (!isObject(raw)) return 'tunnel request must be a JSON object';
  const job = raw.job;
  if (!isObject(job) || !isText(job.uid) || !isText(job.namespace) || !isText(job.name)) return 'tunnel request needs job {uid, namespace, name}';
  const ref: JobRef = { uid: job.uid, namespace: job.namespace, name: job.name };
  const task = raw.task;
  if (task !== undefined && !(isText(task) && TASK_NAME.test(task))) return 'tunnel request: task must be a task name';
  switch (raw.op) {
    case 'logs': {
      const tail = raw.tail;
      if (tail !== undefined && !(Number.isInteger(tail) && (tail as number) >= 0 && (tail as number) <= 1e9))
        return 'tunnel request: tail must be an integer >= 0';
      return { op: 'logs', job: ref, follow: raw.follow === true, ...(tail !== undefined ? { tail: tail as number } : {}), ...(task ? { task } : {}) };
    }
    case 'exec': {
      const command = raw.command;
      if (typeof task !== 'string') return 'tunnel request: exec needs a task';
      if (!Array.isArray(command) || command.length === 0 || command.length > MAX_ARGS || !command.every(isText))
        return `tunnel request: command must be 1 to ${MAX_ARGS} strings`;
      return { op: 'exec', job: ref, task, command: command as string[], tty: raw.tty === true };
    }
    case 'portForward': {
      const port = raw.port;
      if (typeof task !== 'string') return 'tunnel request: port-forward needs a task';
      if (!(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) return 'tunnel request: port must be 1..65535';
      return { op: 'portForward', job: ref, task, port: port as number };
    }
    default:
      return `tunnel request: unknown op '${String(raw.op).slice(0, 40)}'`;
  }
}

/** A control message, or undefined for anything else (ignored, so either side may add messages later). */
export function parseControl(data: Uint8Array): ControlMessage | undefined {
  if (data.byteLength > MAX_STRING) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  if (v.ready === true) return { ready: true };
  if (v.stdinEnd === true) return { stdinEnd: true };
  if (Number.isInteger(v.exitCode)) return { exitCode: v.exitCode as number };
  if (isObject(v.resize)) {
    const { columns, rows } = v.resize;
    const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 10_000;
    if (ok(columns) && ok(rows)) return { resize: { columns, rows } };
  }
  return undefined;
}

export function encodeControl(message: ControlMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_STRING;
}
