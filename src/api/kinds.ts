// PLACEHOLDER: replaced by the api module. Signatures are the contract.
import type { ApiObject } from './object.js';

export interface KindInfo {
  kind: string; // 'Job'
  listKind: string; // 'JobList'
  plural: string; // 'jobs'
  singular: string; // 'job'
  shortNames: string[]; // ['fp'] ...
  namespaced: boolean;
  /** JSON schema (TypeBox) of the whole object, camelCase, for OpenAPI. */
  schema: unknown;
}
export const KINDS: readonly KindInfo[] = [];
export function kindForPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}
/** 'job' | 'jobs' | 'Job' | short name -> KindInfo. */
export function resolveKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  return KINDS.find((k) => k.plural === n || k.singular === n || k.shortNames.includes(n));
}
/**
 * Validate and normalise client input of a kind: snake_case accepted, unknown
 * fields rejected with their path, defaults applied, units converted. Throws
 * ApiError('Invalid') with details.causes (field paths) or ApiError('BadRequest').
 */
export function normalizeObject(kind: KindInfo, input: unknown): ApiObject {
  void kind;
  return input as ApiObject;
}
/** `/registry/{plural}/{namespace}/{name}` or `/registry/{plural}/{name}`; omit name for a prefix (ends in '/'). */
export function storageKey(kind: KindInfo, namespace: string | undefined, name?: string): string {
  const base = kind.namespaced && namespace ? `/registry/${kind.plural}/${namespace}/` : `/registry/${kind.plural}/`;
  return name === undefined ? base : base + name;
}
