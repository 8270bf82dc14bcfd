/**
 * The generic resource handlers: list, get, create, update, patch, delete and
 * the status subresource, the same code for every kind.
 */
import { ApiError, badRequest, parseLabelSelector, type ApiObject, type KindInfo, type LabelSelector } from '../api/index.js';
import { storageKey } from '../api/index.js';
import { checkPatched } from './body-limits.js';
import { decodeBody, jsonPatch, mergePatch, patchPrecondition, requireObject, type BodyFormat } from './body.js';
import { cacheFor, caughtUp, noteWrite, type ServerContext } from './context.js';
import { assertNamespaceExists, checkNamespaceCreate, deleteNamespaceContents, isNamespaceKind } from './namespaces.js';
import { bindToPath, checkIdentity, describe, forCreate, forStatus, forUpdate, preconditionOf } from './objects.js';
import type { Target } from './router.js';
import type { JsonObject, KeyValue } from './store.js';
import { toCached, type CachedObject } from './cached-object.js';

/** What a handler answers: a status code and a JSON string (serialised once, never re-encoded). */
export interface Reply {
  code: number;
  body: string;
}

export type Query = Record<string, string | undefined>;

const MAX_CONFLICT_RETRIES = 5;

/** `visible`: which objects the caller may see at all (an agent token's scope); absent: all. */
export async function listObjects(
  ctx: ServerContext,
  target: Target & { type: 'collection' },
  query: Query,
  visible?: (obj: ApiObject) => boolean,
): Promise<Reply> {
  const { kind } = target;
  const selector = selectorOf(query);
  const limit = limitOf(query.limit);
  const prefix = storageKey(kind, target.namespace);
  const startAfter = query.continue ? decodeContinue(query.continue, prefix) : undefined;
  const cache = await caughtUp(ctx, kind);
  const revision = cache.revision;
  const page = cache.list(prefix, { selector, limit, startAfter, ...(visible ? { visible } : {}) });
  const last = page.items[page.items.length - 1];
  const meta: Record<string, string> = { resourceVersion: String(revision) };
  if (page.more && last) meta.continue = Buffer.from(last.key).toString('base64url');
  // Items are pre-serialised; the list is one join, never a re-encode of 10k objects.
  const body =
    `{"kind":${JSON.stringify(kind.listKind)},"apiVersion":"v1","metadata":${JSON.stringify(meta)},"items":[` + page.items.map((c) => c.json).join(',') + ']}';
  return { code: 200, body };
}

export async function getObject(ctx: ServerContext, target: Target & { type: 'object' | 'status' }): Promise<Reply> {
  const cache = await caughtUp(ctx, target.kind);
  const found = cache.get(storageKey(target.kind, target.namespace, target.name));
  if (!found) throw notFound(target);
  return { code: 200, body: found.json };
}

/**
 * `?dryRun=All` (Kubernetes' spelling): the request is validated, defaulted
 * and checked against the store like a real one, and answered with what would
 * be stored; nothing is written and no watch event is sent.
 */
export function isDryRun(query: Query): boolean {
  const v = query.dryRun;
  if (v === undefined || v === '') return false;
  if (v !== 'All') throw badRequest(`dryRun '${v}' is not supported: the only value is All`);
  return true;
}

/** Routes that cannot dry-run (accounts) refuse it rather than act for real. */
export function refuseDryRun(query: Query, what: string): void {
  if (isDryRun(query)) throw badRequest(`dryRun is not supported on ${what}`);
}

export async function createObject(
  ctx: ServerContext,
  target: Target & { type: 'collection' },
  raw: unknown,
  contentType: string | undefined,
  query: Query = {},
): Promise<Reply> {
  const dryRun = isDryRun(query);
  const { kind } = target;
  if (kind.namespaced && target.namespace === undefined) {
    throw new ApiError('MethodNotAllowed', `${kind.plural} are namespaced: create them with POST /{namespace}/${kind.plural}`);
  }
  const { format, value } = decodeBody(raw, contentType);
  if (format !== 'json' && format !== 'yaml') throw unsupportedForMethod(format, 'POST');
  const body = bindToPath(kind, requireObject(value), target.namespace, undefined);
  const obj = forCreate(kind, body, ctx.now);
  const name = obj.metadata as { name: string };
  if (isNamespaceKind(kind)) checkNamespaceCreate(ctx, name.name);
  if (kind.namespaced) await assertNamespaceExists(ctx, target.namespace!);
  const key = storageKey(kind, target.namespace, name.name);
  if (dryRun) {
    if (await ctx.store.get(key)) throw new ApiError('AlreadyExists', `${describe(kind, target.namespace, name.name)} already exists`);
    return { code: 201, body: JSON.stringify(obj) };
  }
  let kv: KeyValue;
  try {
    kv = await ctx.store.create(key, obj);
  } catch (err) {
    if (isStoreCode(err, 'AlreadyExists')) throw new ApiError('AlreadyExists', `${describe(kind, target.namespace, name.name)} already exists`);
    throw err;
  }
  return { code: 201, body: written(ctx, kind, kv).json };
}

/** PUT on an object or its status. */
export async function replaceObject(
  ctx: ServerContext,
  target: Target & { type: 'object' | 'status' },
  raw: unknown,
  contentType: string | undefined,
  query: Query,
): Promise<Reply> {
  const { format, value } = decodeBody(raw, contentType);
  if (format !== 'json' && format !== 'yaml') throw unsupportedForMethod(format, 'PUT');
  const body = bindToPath(target.kind, requireObject(value), target.namespace, target.name);
  const precondition = preconditionOf((body.metadata as Record<string, unknown>).resourceVersion, query.resourceVersion);
  return writeLoop(ctx, target, precondition, isDryRun(query), (current) => {
    checkIdentity(target.kind, body, current, 'put');
    return target.type === 'status' ? forStatus(target.kind, body, current) : forUpdate(target.kind, body, current);
  });
}

/** PATCH on an object or its status: the patch applies to the stored object, then it is a PUT. */
export async function patchObject(
  ctx: ServerContext,
  target: Target & { type: 'object' | 'status' },
  raw: unknown,
  contentType: string | undefined,
  query: Query,
): Promise<Reply> {
  const { format, value } = decodeBody(raw, contentType);
  if (format !== 'merge-patch' && format !== 'json-patch') {
    throw new ApiError('UnsupportedMediaType', 'PATCH takes application/merge-patch+json or application/json-patch+json');
  }
  const queryPrecondition = preconditionOf(undefined, query.resourceVersion);
  const patchSetsVersion = patchPrecondition(format, value);
  // A precondition inside the patch is checked against the first read only; retries would defeat it.
  const precondition = queryPrecondition;
  return writeLoop(ctx, target, precondition, isDryRun(query), (current, revision) => {
    const currentWithRv = { ...current, metadata: { ...current.metadata, resourceVersion: String(revision) } };
    const patched = format === 'merge-patch' ? mergePatch(currentWithRv, value) : jsonPatch(currentWithRv, value);
    // The result is a new body: bounded like one before validation walks it.
    checkPatched(patched);
    const body = bindToPath(target.kind, requireObject(patched), target.namespace, target.name);
    checkIdentity(target.kind, body, current, 'patch');
    if (patchSetsVersion) {
      const wanted = preconditionOf((body.metadata as Record<string, unknown>).resourceVersion, undefined);
      if (wanted !== undefined && wanted !== revision) throw conflict(target);
    }
    return target.type === 'status' ? forStatus(target.kind, body, current) : forUpdate(target.kind, body, current);
  });
}

/**
 * Read, build, compare-and-swap. With a client precondition a mismatch is a
 * 409; without one the server retries, so concurrent writers never lose an
 * update silently and never see a spurious conflict.
 */
async function writeLoop(
  ctx: ServerContext,
  target: Target & { type: 'object' | 'status' },
  precondition: number | undefined,
  dryRun: boolean,
  build: (current: ApiObject, revision: number) => Record<string, unknown>,
): Promise<Reply> {
  const key = storageKey(target.kind, target.namespace, target.name);
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(key);
    if (!current) throw notFound(target);
    if (precondition !== undefined && precondition !== current.modRevision) throw conflict(target);
    const next = build(current.value as ApiObject, current.modRevision);
    if (dryRun) return { code: 200, body: toCached(key, next as JsonObject, current.modRevision).json };
    try {
      const kv = await ctx.store.update(key, next, current.modRevision);
      return { code: 200, body: written(ctx, target.kind, kv).json };
    } catch (err) {
      if (isStoreCode(err, 'NotFound')) throw notFound(target);
      if (isStoreCode(err, 'Conflict')) {
        if (precondition !== undefined || attempt >= MAX_CONFLICT_RETRIES) throw conflict(target);
        continue;
      }
      throw err;
    }
  }
}

/** After a create or update: note the revision for read-your-writes, serialise once for reply and cache. */
function written(ctx: ServerContext, kind: KindInfo, kv: KeyValue): CachedObject {
  noteWrite(ctx, kind, kv.modRevision);
  const cache = ctx.caches.get(kind.plural);
  // On etcd the watch event often beats the write's reply: reuse what the cache serialised.
  const applied = cache?.get(kv.key);
  if (applied !== undefined && applied.revision === kv.modRevision) return applied;
  const cached = toCached(kv.key, kv.value, kv.modRevision);
  cache?.prime(cached);
  return cached;
}

export async function deleteObject(
  ctx: ServerContext,
  target: Target & { type: 'object' },
  query: Query,
  raw: unknown,
  contentType: string | undefined,
): Promise<Reply> {
  const { kind } = target;
  let bodyRv: unknown;
  // DELETE may carry {metadata:{resourceVersion}} or DeleteOptions {preconditions:{resourceVersion}}.
  if (typeof raw === 'string' && raw.trim() !== '') {
    const { value } = decodeBody(raw, contentType);
    const body = requireObject(value);
    const meta = body.metadata as Record<string, unknown> | undefined;
    const pre = body.preconditions as Record<string, unknown> | undefined;
    bodyRv = meta?.resourceVersion ?? pre?.resourceVersion;
  }
  const precondition = preconditionOf(bodyRv, query.resourceVersion);
  if (isNamespaceKind(kind) && target.name === 'default') {
    throw new ApiError('Forbidden', "namespace 'default' cannot be deleted");
  }
  const key = storageKey(kind, target.namespace, target.name);
  const current = await ctx.store.get(key);
  if (!current) throw notFound(target);
  if (precondition !== undefined && precondition !== current.modRevision) throw conflict(target);
  if (isDryRun(query)) return { code: 200, body: toCached(key, current.value, current.modRevision).json };
  let kv: KeyValue;
  try {
    kv = await ctx.store.delete(key, precondition ?? current.modRevision);
  } catch (err) {
    if (isStoreCode(err, 'NotFound')) throw notFound(target);
    if (isStoreCode(err, 'Conflict')) throw conflict(target);
    throw err;
  }
  if (isNamespaceKind(kind)) await deleteNamespaceContents(ctx, target.name);
  // The store does not return the deletion revision: wait for the cache to see the
  // delete, which both gives it and makes the next read by this client consistent.
  const cache = cacheFor(ctx, kind);
  const gone = () => {
    const now = cache.get(key);
    return cache.revision > kv.modRevision && (now === undefined || now.revision > kv.modRevision);
  };
  const seen = await cache.waitUntil(gone, ctx.readTimeoutMs);
  const revision = seen ? cache.revision : kv.modRevision;
  noteWrite(ctx, kind, revision);
  return { code: 200, body: toCached(kv.key, kv.value, revision).json };
}

export function selectorOf(query: Query): LabelSelector | undefined {
  const text = query.labelSelector;
  if (text === undefined || text.trim() === '') return undefined;
  return parseLabelSelector(text);
}

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`limit '${text}' must be a non-negative integer`);
  const n = Number(text);
  return n === 0 ? undefined : n;
}

function decodeContinue(token: string, prefix: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(key).toString('base64url') !== token || !key.startsWith(prefix) || key.length === prefix.length) {
    throw badRequest('invalid continue token: pass back the token from the previous page of the same list');
  }
  return key;
}

function notFound(target: { kind: KindInfo; namespace?: string; name: string }): ApiError {
  return new ApiError('NotFound', `${describe(target.kind, target.namespace, target.name)} not found`);
}

function conflict(target: { kind: KindInfo; namespace?: string; name: string }): ApiError {
  return new ApiError(
    'Conflict',
    `${describe(target.kind, target.namespace, target.name)} has been modified since it was read (resourceVersion mismatch); get it again and retry`,
  );
}

function unsupportedForMethod(format: BodyFormat, method: string): ApiError {
  return new ApiError('UnsupportedMediaType', `${method} takes application/json or application/yaml, not a ${format} body`);
}

export function isStoreCode(err: unknown, code: string): boolean {
  return err instanceof Error && err.name === 'StoreError' && (err as { code?: unknown }).code === code;
}
