/**
 * Query parameters of the exec and port-forward routes, every one validated
 * and bounded before any work: a bad value is a 400 naming it, never a 500
 * (a NUL in an argument would make spawn throw) and never a large allocation.
 */
import { badRequest } from '../../api/index.js';

/** Arguments of one exec command, their size each and in all. */
export const MAX_COMMAND_ARGS = 1024;
export const MAX_ARG_BYTES = 64 * 1024;
export const MAX_COMMAND_BYTES = 256 * 1024;
/** Task names are `<job>-<rank>`: a DNS label, a dash, a number. */
const TASK = /^[a-z0-9]([-a-z0-9]{0,100}[a-z0-9])?$/;

export type RawQuery = Record<string, unknown>;

export interface ExecParams {
  task?: string;
  command: string[];
  tty: boolean;
  stdin: boolean;
}

export interface PortForwardParams {
  task?: string;
  port: number;
}

export function execParams(query: RawQuery): ExecParams {
  const raw = query.command;
  const command = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (command.length === 0) throw badRequest("exec needs a command: one or more 'command' query parameters");
  if (command.length > MAX_COMMAND_ARGS) throw badRequest(`command has ${command.length} arguments; at most ${MAX_COMMAND_ARGS} are allowed`);
  let total = 0;
  for (const [i, arg] of command.entries()) {
    if (typeof arg !== 'string') throw badRequest(`command argument ${i} must be a string`);
    const bytes = Buffer.byteLength(arg);
    if (bytes > MAX_ARG_BYTES) throw badRequest(`command argument ${i} is ${bytes} bytes; at most ${MAX_ARG_BYTES} are allowed`);
    if (arg.includes('\0')) throw badRequest(`command argument ${i} contains NUL`);
    total += bytes;
  }
  if (total > MAX_COMMAND_BYTES) throw badRequest(`command is ${total} bytes; at most ${MAX_COMMAND_BYTES} are allowed`);
  if ((command[0] as string) === '') throw badRequest('the command (first argument) must not be empty');
  // stdout/stderr are what kubectl sends; both are always streamed, but a malformed value is still refused.
  flag(query, 'stdout', true);
  flag(query, 'stderr', true);
  return { ...taskOf(query), command: command as string[], tty: flag(query, 'tty', false), stdin: flag(query, 'stdin', false) };
}

export function portForwardParams(query: RawQuery): PortForwardParams {
  const raw = single(query, 'port');
  if (raw === undefined) throw badRequest("port-forward needs a 'port' query parameter (1..65535)");
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535)) throw badRequest(`port '${raw.slice(0, 20)}' must be an integer in 1..65535`);
  return { ...taskOf(query), port };
}

function taskOf(query: RawQuery): { task?: string } {
  const task = single(query, 'task');
  if (task === undefined || task === '') return {};
  if (!TASK.test(task)) throw badRequest(`task '${task.slice(0, 110)}' is not a task name such as 'hello-0'`);
  return { task };
}

function flag(query: RawQuery, name: string, fallback: boolean): boolean {
  const v = single(query, name);
  if (v === undefined || v === '') return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`${name} must be true or false, got '${v.slice(0, 20)}'`);
}

/** A parameter given at most once. */
function single(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`'${name}' may be given only once`);
  return v;
}
