/** What every command needs: I/O, global flags, a connected client, kind lookup. */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { SkyShiftClient, resolveKindName, type KindName, type TlsOptions } from '../client/core.js';
import { configPath, loadConfig, resolveConnection, type Resolved } from './config.js';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  /** Aborted on Ctrl-C so long-running commands (get -w) end cleanly. */
  signal: AbortSignal;
  home?: string;
}

/** Bad invocation: exit code 2, printed as `error: ...`. */
export class UsageError extends Error {}

/** Some items of a batch failed and were reported already: exit code 1, nothing more printed. */
export class ReportedFailure extends Error {}

/** A remote command's exit code as skyctl's own (`exec`; main.ts returns it). */
export class CommandExit extends ReportedFailure {
  constructor(readonly code: number) {
    super(`command exited with ${code}`);
  }
}

export interface Globals {
  server?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
}

/** Merges options from the program down to the leaf, nearest command winning. */
export function optionsOf(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) for (const [k, v] of Object.entries(c.opts())) if (v !== undefined) merged[k] = v;
  return merged;
}

/**
 * The options addGlobals declares. Only these are read as skyctl's own flags,
 * so a subcommand's option of the same name (`create cluster --context`, the
 * kubeconfig context) never doubles as a global one.
 */
const globalOptions = new WeakSet<Option>();

export function markGlobal(option: Option): Option {
  globalOptions.add(option);
  return option;
}

export const isGlobal = (option: Option): boolean => globalOptions.has(option);

export function globalsOf(cmd: Command): Globals {
  const o: Record<string, unknown> = {};
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  for (const c of chain)
    for (const option of c.options) {
      if (!globalOptions.has(option)) continue;
      const value = c.getOptionValue(option.attributeName()) as unknown;
      if (value !== undefined) o[option.attributeName()] = value;
    }
  const g: Globals = {};
  if (typeof o.server === 'string') g.server = o.server;
  if (typeof o.context === 'string') g.context = o.context;
  if (typeof o.namespace === 'string') g.namespace = o.namespace;
  if (o.allNamespaces === true) g.allNamespaces = true;
  return g;
}

export interface Session {
  client: SkyShiftClient;
  namespace: string;
  allNamespaces: boolean;
  connection: Resolved;
}

export function connect(cmd: Command, io: Io, globals: Globals = globalsOf(cmd)): Session {
  const config = loadConfig(configPath(io.home));
  const connection = resolveConnection(config, globals, io.env);
  const client = new SkyShiftClient({ server: connection.server, token: connection.token, namespace: connection.namespace, tls: tlsOf(connection) });
  return { client, namespace: connection.namespace, allNamespaces: globals.allNamespaces ?? false, connection };
}

/** The context's TLS settings: its CA file, or the explicit insecure flag. */
export function tlsOf(connection: Resolved): TlsOptions | undefined {
  if (connection.insecureSkipTlsVerify) return { insecureSkipTlsVerify: true };
  if (connection.certificateAuthority) return { ca: readFileSync(connection.certificateAuthority) };
  return undefined;
}

export function kindOrFail(name: string): KindName {
  const kind = resolveKindName(name);
  if (!kind) throw new UsageError(`the server doesn't have a resource type "${name}"`);
  return kind;
}

export function singularOf(kind: KindName): string {
  return kind.singular || kind.kind.toLowerCase();
}
