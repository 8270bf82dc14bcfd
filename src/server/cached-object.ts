/** An object as the watch cache serves it: resourceVersion filled in, JSON serialised once. */
import type { ApiObject } from '../api/index.js';
import type { JsonObject } from './store.js';

export interface CachedObject {
  readonly key: string;
  readonly obj: ApiObject;
  readonly json: string;
  readonly revision: number;
}

export function toCached(key: string, value: JsonObject, revision: number): CachedObject {
  const metadata = (value.metadata ?? {}) as Record<string, unknown>;
  const obj = { ...value, metadata: { ...metadata, resourceVersion: String(revision) } } as ApiObject;
  return { key, obj, json: JSON.stringify(obj), revision };
}
