/**
 * The Node client without the API schemas or WebSocket streams: what a
 * short-lived process (skyctl) loads before its first request. index.ts
 * offers all of this and more, but loads every kind's schema (TypeBox, about
 * 200 ms); a skyctl command must start in under 200 ms (bench/cli-startup.ts).
 * Streams (exec, port-forward) and schemas are imported by the commands that
 * use them, when they run.
 */
export { RestClient, UnreachableError } from './client.js';
export type { ClientOptions, ListOptions, WatchOptions, LogsOptions, CallOptions, ServerVersion } from './client.js';
export { SkyShiftClient, type NodeClientOptions } from './node-client.js';
export type { TlsOptions } from './node-transport.js';
export type { KindRef } from './paths.js';
export { ApiError } from '../api/errors.js';
export { objectKey } from '../api/object.js';
export type { ApiObject, ObjectList, WatchEvent, WatchEventType, ObjectMeta } from '../api/object.js';
export type { Status } from '../api/errors.js';
export { KIND_NAMES, resolveKindName, MANAGER_NAMES, MANAGER_NAME_ALIASES, type KindName } from '../api/kind-names.js';
export { login, register, createInvite, revokeInvite, whoami } from './accounts.js';
export type { LoginResult, InviteResult, RegisterResult, WhoAmI } from './accounts.js';
import type * as Streams from './streams.js';

export type { ExecConnection, ExecOutput, ExecRequest, PortForwardRequest, StreamConnection } from './streams.js';

/** exec and port-forward (WebSocket), loaded by the commands that open them. */
export const loadStreams = (): Promise<typeof Streams> => import('./streams.js');
