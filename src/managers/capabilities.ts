/**
 * Optional capabilities (DESIGN section 8): small interfaces a manager may
 * implement beside the core ClusterManager, discovered with `capability()`.
 * A manager without one answers a 501 NotImplemented Status naming the
 * cluster and manager. Interfaces only for now; the Kubernetes manager is the
 * first to implement them.
 */
import type { Job } from '../api/index.js';
import { ManagerError } from './errors.js';
import type { ClusterManager, JobRef } from './types.js';

/** One running command in a task: bytes in, bytes out, and how it ended. */
export interface ExecSession {
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  /** Empty with `tty` (a terminal merges stderr into stdout). */
  stderr: ReadableStream<Uint8Array>;
  /** The command's exit code once it ends. */
  exitCode: Promise<number>;
  /** Terminal size changes (tty only). */
  resize?(columns: number, rows: number): void;
}

export interface ExecOptions {
  task: string;
  command: string[];
  tty?: boolean;
  signal?: AbortSignal;
}

/** Run a command in a task (`skyctl exec`). */
export interface ExecCapability {
  exec(job: JobRef, options: ExecOptions): Promise<ExecSession>;
}

/** A byte stream to a port of a task (`skyctl port-forward`); closing either side ends it. */
export interface PortForwardCapability {
  portForward(
    job: JobRef,
    options: { task: string; port: number; signal?: AbortSignal },
  ): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
}

/** Files in a task's work directory (job inputs and outputs, DESIGN section 14); paths are relative to it. */
export interface FilesCapability {
  putFile(job: JobRef, options: { task: string; path: string; content: ReadableStream<Uint8Array>; signal?: AbortSignal }): Promise<void>;
  getFile(job: JobRef, options: { task: string; path: string; signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>>;
}

/** The cluster's side of the service mesh (DESIGN section 13). */
export interface NetworkCapability {
  /** Start (idempotently) the cluster's gateway; resolves to the address other clusters reach it at. */
  gateway(signal?: AbortSignal): Promise<{ host: string; port: number }>;
  /** Where each task of the job listens: task -> port -> host:port. */
  replicaAddresses(job: Pick<Job, 'metadata' | 'spec'>, signal?: AbortSignal): Promise<Record<string, Record<number, string>>>;
}

export interface Capabilities {
  exec: ExecCapability;
  portForward: PortForwardCapability;
  files: FilesCapability;
  network: NetworkCapability;
}
export type CapabilityName = keyof Capabilities;

/** Methods whose presence shows a manager has the capability. */
const METHODS: { [K in CapabilityName]: readonly (keyof Capabilities[K])[] } = {
  exec: ['exec'],
  portForward: ['portForward'],
  files: ['putFile', 'getFile'],
  network: ['gateway', 'replicaAddresses'],
};

const WORDS: Record<CapabilityName, string> = { exec: 'exec', portForward: 'port-forward', files: 'file transfer', network: 'networking' };

export function hasCapability<K extends CapabilityName>(manager: ClusterManager, name: K): manager is ClusterManager & Capabilities[K] {
  const methods: readonly PropertyKey[] = METHODS[name];
  return methods.every((m) => typeof Reflect.get(manager, m) === 'function');
}

/**
 * The manager's `name` capability, or a ManagerError with reason NotImplemented
 * (HTTP 501) such as "cluster 'x' (manager sim) does not support exec".
 */
export function capability<K extends CapabilityName>(manager: ClusterManager, name: K, cluster: string): ClusterManager & Capabilities[K] {
  if (hasCapability(manager, name)) return manager;
  throw new ManagerError('NotImplemented', `cluster '${cluster}' (manager ${manager.type}) does not support ${WORDS[name]}`);
}
