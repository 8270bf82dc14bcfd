/**
 * Request bodies: JSON or YAML documents, JSON merge patch (RFC 7396) and JSON
 * patch (RFC 6902). Fastify only collects the raw text (with the size limit);
 * decoding happens here so errors name the problem and become Status bodies.
 */
import type { FastifyInstance } from 'fastify';
import fastJsonPatch from 'fast-json-patch';
import YAML from 'yaml';
import { ApiError, badRequest } from '../api/index.js';

/** 1.5 MiB, DESIGN section 4. */
export const BODY_LIMIT = 1.5 * 1024 * 1024;

export type BodyFormat = 'json' | 'yaml' | 'merge-patch' | 'json-patch';

const FORMATS: Record<string, BodyFormat> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  'application/merge-patch+json': 'merge-patch',
  'application/json-patch+json': 'json-patch',
};

/** Replaces fastify's parsers: every accepted type is collected as text; anything else is 415. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(Object.keys(FORMATS), { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    done(null, body);
  });
}

export function formatOf(contentType: string | undefined): BodyFormat | undefined {
  if (!contentType) return undefined;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return FORMATS[media];
}

/** The decoded body: a JSON value, or a Status-worthy error naming what is wrong. */
export function decodeBody(raw: unknown, contentType: string | undefined): { format: BodyFormat; value: unknown } {
  const format = formatOf(contentType);
  if (format === undefined) throw new ApiError('UnsupportedMediaType', `unsupported content type '${contentType ?? ''}'`);
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('request body is empty');
  if (format === 'yaml') {
    const docs = YAML.parseAllDocuments(raw);
    const list = Array.isArray(docs) ? docs : [docs];
    if (list.length !== 1) throw badRequest(`request body must hold exactly one YAML document, found ${list.length}`);
    const doc = list[0]!;
    const err = doc.errors[0];
    if (err) throw badRequest(`invalid YAML body: ${err.message}`);
    return { format, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  }
  try {
    return { format, value: JSON.parse(raw) as unknown };
  } catch (err) {
    throw badRequest(`invalid JSON body: ${(err as Error).message}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Body that must be one object (create, update). */
export function requireObject(value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) throw badRequest('request body must be a JSON or YAML object');
  return value;
}

/** RFC 7396: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__') continue;
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** RFC 6902 on a copy of `target`; any bad operation is a 4xx naming it. */
export function jsonPatch(target: Record<string, unknown>, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations');
  const error = fastJsonPatch.validate(patch as fastJsonPatch.Operation[], target);
  if (error) throw badRequest(`invalid JSON patch: ${describePatchError(error)}`);
  try {
    return fastJsonPatch.applyPatch(structuredClone(target), patch as fastJsonPatch.Operation[], true, true, true)
      .newDocument as unknown;
  } catch (err) {
    const e = err as Error & { name?: string };
    if (e.name === 'TEST_OPERATION_FAILED') throw new ApiError('Conflict', `JSON patch test failed: ${firstLine(e.message)}`);
    throw badRequest(`invalid JSON patch: ${describePatchError(e)}`);
  }
}

function describePatchError(err: Error & { index?: number }): string {
  const where = typeof err.index === 'number' ? ` (operation ${err.index})` : '';
  return `${firstLine(err.message)}${where}`;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/** Whether a patch sets metadata.resourceVersion, i.e. carries a precondition. */
export function patchPrecondition(format: BodyFormat, patch: unknown): boolean {
  if (format === 'merge-patch') {
    return isPlainObject(patch) && isPlainObject(patch.metadata) && patch.metadata.resourceVersion !== undefined;
  }
  if (format === 'json-patch' && Array.isArray(patch)) {
    return patch.some((op) => isPlainObject(op) && op.path === '/metadata/resourceVersion' && op.op !== 'test');
  }
  return false;
}
