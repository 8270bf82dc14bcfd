/** The options of an exec request (PodExecOptions from the query), checked as the API server checks them. */
import { pickContainer, queryBool, type StreamTarget } from './request.js';
import { badRequest, type Status } from './status.js';
import type { StreamPod } from './types.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io', ''];

export interface ExecOptions {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const MAX_ARGS = 4096;
const MAX_COMMAND_BYTES = 256 * 1024;
const MAX_RESIZE_MESSAGE = 1024;

/** The query of an exec request, checked as the API server checks PodExecOptions; a 400 Status when it is not valid. */
export function parseExecOptions(target: StreamTarget, pod: StreamPod): { opts: ExecOptions } | { status: Status } {
  const { query } = target;
  const flags: Record<'stdin' | 'stdout' | 'stderr' | 'tty', boolean> = { stdin: false, stdout: false, stderr: false, tty: false };
  for (const key of ['stdin', 'stdout', 'stderr', 'tty'] as const) {
    const value = queryBool(query, key);
    if (value === undefined) return { status: badRequest(`strconv.ParseBool: parsing "${query.get(key)}": invalid syntax`) };
    flags[key] = value;
  }
  const command = query.getAll('command');
  if (command.length === 0 || command[0] === '') return { status: badRequest('you must specify at least one command for the container') };
  if (command.length > MAX_ARGS || command.reduce((n, a) => n + a.length, 0) > MAX_COMMAND_BYTES || command.some((a) => a.includes('\0'))) {
    return { status: badRequest('command is too long or holds a NUL byte') };
  }
  if (!flags.stdin && !flags.stdout && !flags.stderr) return { status: badRequest('you must specify at least 1 of stdin, stdout, stderr') };
  const picked = pickContainer(pod, target.name, query.get('container'));
  if ('status' in picked) return picked;
  // The kubelet drops stderr with a tty: a terminal has one output.
  return { opts: { command, container: picked.container, ...flags, stderr: flags.stderr && !flags.tty } };
}

/** One resize message ({"Width":80,"Height":24}); undefined when it is not one. */
export function parseResize(data: Buffer): { cols: number; rows: number } | undefined {
  if (data.length > MAX_RESIZE_MESSAGE) return undefined;
  try {
    const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const cols = Number(size.Width);
    const rows = Number(size.Height);
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 10_000 || rows > 10_000) return undefined;
    return { cols, rows };
  } catch {
    return undefined;
  }
}
