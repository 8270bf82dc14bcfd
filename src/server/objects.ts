/**
 * Server-managed metadata: uid, creationTimestamp, generation and
 * resourceVersion belong to the server, whatever a client sends. The stored
 * value never holds resourceVersion (it is the store's modRevision, filled in
 * on the way out), so it can never be stale.
 */
import { randomUUID } from 'node:crypto';
import { addWarning } from './warnings.js';
import { badRequest, invalid, normalizeObject, normalizeStatus, type ApiObject, type KindInfo } from '../api/index.js';
import { isPlainObject } from './body.js';
import type { JsonObject } from './store.js';

export function describe(kind: KindInfo, namespace: string | undefined, name: string): string {
  return `${kind.singular} '${namespace !== undefined && kind.namespaced ? `${namespace}/` : ''}${name}'`;
}

/** Checks kind/name/namespace in the body against the path and fills them in. */
export function bindToPath(kind: KindInfo, body: Record<string, unknown>, namespace: string | undefined, name: string | undefined): Record<string, unknown> {
  if (body.kind !== undefined && body.kind !== kind.kind) {
    throw badRequest(`body kind '${String(body.kind)}' does not match the path (expected '${kind.kind}')`);
  }
  if (body.metadata !== undefined && !isPlainObject(body.metadata)) throw badRequest('metadata must be an object');
  const metadata: Record<string, unknown> = { ...((body.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (name !== undefined) {
    if (metadata.name !== undefined && metadata.name !== name) {
      throw badRequest(`metadata.name '${String(metadata.name)}' does not match the name in the path ('${name}')`);
    }
    metadata.name = name;
  }
  if (kind.namespaced) {
    if (namespace === undefined) throw badRequest(`${kind.plural} are namespaced: use /{namespace}/${kind.plural}`);
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw badRequest(`metadata.namespace '${String(metadata.namespace)}' does not match the namespace in the path ('${namespace}')`);
    }
    metadata.namespace = namespace;
  } else if (metadata.namespace !== undefined) {
    throw badRequest(`${kind.plural} are not namespaced: remove metadata.namespace`);
  }
  return { ...body, kind: kind.kind, metadata };
}

/**
 * uid is the object's identity, so an update naming a different one is an error
 * (422 "field is immutable", as in Kubernetes) rather than silently ignored.
 * A PUT may omit it; a patch result always carries the stored uid unless the
 * patch changed or removed it, so there a missing uid counts as a change.
 */
export function checkIdentity(kind: KindInfo, body: Record<string, unknown>, current: ApiObject, mode: 'put' | 'patch'): void {
  const sent = isPlainObject(body.metadata) ? body.metadata.uid : undefined;
  const stored = current.metadata.uid;
  const omitted = sent === undefined || sent === null || sent === '';
  if (omitted ? mode === 'put' || stored === undefined : sent === stored) return;
  throw invalid(describe(kind, current.metadata.namespace, current.metadata.name), [{ field: 'metadata.uid', message: 'field is immutable' }]);
}

/** The value to store for a new object: validated, status reset, server fields set. */
export function forCreate(kind: KindInfo, body: Record<string, unknown>, now: () => Date): JsonObject {
  // Status is written only through the status subresource; on create the kind's defaults apply.
  const { status: _ignored, ...rest } = body;
  void _ignored;
  const obj = normalizeObject(kind, stripServerFields(rest), { warn: addWarning });
  obj.metadata.uid = randomUUID();
  obj.metadata.creationTimestamp = now().toISOString();
  obj.metadata.generation = 1;
  delete obj.metadata.resourceVersion;
  return obj;
}

/** A plain update: spec and metadata from the client, status and identity from the stored object. */
export function forUpdate(kind: KindInfo, body: Record<string, unknown>, current: ApiObject): JsonObject {
  const { status: _ignored, ...rest } = body;
  void _ignored;
  const obj = normalizeObject(kind, { ...stripServerFields(rest), status: current.status }, { warn: addWarning });
  obj.status = current.status;
  keepIdentity(obj, current);
  obj.metadata.generation = (current.metadata.generation ?? 1) + (deepEqual(obj.spec, current.spec) ? 0 : 1);
  return obj;
}

/** A status update: only status from the client; everything else stays. */
export function forStatus(kind: KindInfo, body: Record<string, unknown>, current: ApiObject): JsonObject {
  if (body.status !== undefined && !isPlainObject(body.status)) throw badRequest('status must be an object');
  let obj: ApiObject;
  try {
    obj = normalizeObject(kind, { ...stripServerFields(current), status: body.status ?? {} });
  } catch (err) {
    // A stored object that no longer passes validation (stored before a limit existed, or written straight
    // into the store) must still take a status write, or no controller could mark it Failed (DESIGN 17):
    // then only the status is validated, and the stored spec is kept as it is.
    if (!storedPartInvalid(kind, current)) throw err;
    const metadata = { ...current.metadata };
    delete metadata.resourceVersion;
    return { ...current, metadata, status: normalizeStatus(kind, body.status ?? {}, current.metadata.name) };
  }
  obj.spec = current.spec;
  obj.metadata = { ...current.metadata };
  keepIdentity(obj, current);
  obj.metadata.generation = current.metadata.generation ?? 1;
  return obj;
}

function storedPartInvalid(kind: KindInfo, current: ApiObject): boolean {
  try {
    normalizeObject(kind, { ...stripServerFields(current), status: {} });
    return false;
  } catch {
    return true;
  }
}

function keepIdentity(obj: ApiObject, current: ApiObject): void {
  const { uid, creationTimestamp } = current.metadata;
  if (uid !== undefined) obj.metadata.uid = uid;
  else delete obj.metadata.uid;
  if (creationTimestamp !== undefined) obj.metadata.creationTimestamp = creationTimestamp;
  else delete obj.metadata.creationTimestamp;
  delete obj.metadata.resourceVersion;
}

/** Server-owned metadata is dropped from client input before validation, so any value is accepted and ignored. */
function stripServerFields(body: Record<string, unknown>): Record<string, unknown> {
  if (!isPlainObject(body.metadata)) return body;
  const { uid: _u, resourceVersion: _r, resource_version: _r2, generation: _g, creationTimestamp: _c, creation_timestamp: _c2, ...metadata } = body.metadata;
  void [_u, _r, _r2, _g, _c, _c2];
  return { ...body, metadata };
}

/** The client's optimistic-concurrency precondition, if any. */
export function preconditionOf(bodyRv: unknown, queryRv: string | undefined): number | undefined {
  const fromQuery = parseRv(queryRv);
  const fromBody = parseRv(bodyRv);
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw badRequest(`resourceVersion in the query (${fromQuery}) and in the body (${fromBody}) differ`);
  }
  return fromBody ?? fromQuery;
}

function parseRv(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = String(raw);
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`resourceVersion '${text}' is not a valid resource version`);
  return Number(text);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
