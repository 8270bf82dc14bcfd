/**
 * What both entry points offer (index.ts for Node, browser.ts for the
 * browser): everything but the transport-specific SkyShiftClient. Nothing
 * reachable from here imports Node.
 */
export { RestClient, UnreachableError } from './client.js';
export type { ClientOptions, ListOptions, WatchOptions, LogsOptions, CallOptions, ServerVersion } from './client.js';
export { FetchTransport, type FetchTransportOptions } from './fetch-transport.js';
export type { Transport, TransportRequest, BufferedResponse, StreamResponse } from './transport.js';
export { Informer } from './informer.js';
export type { InformerOptions } from './informer.js';
export { readLines } from './ndjson.js';
export type { ByteSource } from './ndjson.js';
export type { KindRef } from './paths.js';
export { ApiError, KINDS, resolveKind, kindForPlural, objectKey, MANAGERS, MANAGER_ALIASES } from '../api/index.js';
export type { ApiObject, ObjectList, WatchEvent, WatchEventType, KindInfo, ObjectMeta, Status } from '../api/index.js';
export { login, register, createInvite, revokeInvite, whoami } from './accounts.js';
export type { LoginResult, InviteResult, RegisterResult, WhoAmI } from './accounts.js';
