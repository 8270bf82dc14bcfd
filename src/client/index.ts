/**
 * Public face of src/client: the typed REST client, watch reader and informer.
 * Also re-exports the API vocabulary the CLI and controllers need, so they can
 * see the world through this module alone.
 */
export { SkyShiftClient, UnreachableError, DEFAULT_PAGE_SIZE } from './client.js';
export type { TlsOptions } from './transport.js';
export type { ClientOptions, ListOptions, WatchOptions, LogsOptions, CallOptions, ServerVersion } from './client.js';
export { Informer, abortableSleep, backoffDelay, DEFAULT_BACKOFF } from './informer.js';
export type { InformerOptions, Backoff } from './informer.js';
export { readLines, readNdjson } from './ndjson.js';
export type { ByteSource } from './ndjson.js';
export { objectPath } from './paths.js';
export type { KindRef } from './paths.js';
export { ApiError, KINDS, resolveKind, kindForPlural, objectKey } from '../api/index.js';
export type { ApiObject, ObjectList, WatchEvent, WatchEventType, KindInfo, ObjectMeta, Status } from '../api/index.js';
export { login, register, createInvite, revokeInvite, whoami } from './accounts.js';
export type { LoginResult, InviteResult, RegisterResult, WhoAmI } from './accounts.js';
