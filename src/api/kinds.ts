/**
 * The kind registry: names, scope and schema of every kind, and the storage
 * key layout. Definitions live one per file in kinds/.
 */
import { KIND_DEFS } from './kinds/index.js';

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

export const KINDS: readonly KindInfo[] = KIND_DEFS.map((d) => ({
  kind: d.kind,
  listKind: `${d.kind}List`,
  plural: d.plural,
  singular: d.singular,
  shortNames: d.shortNames,
  namespaced: d.namespaced,
  schema: d.schema,
}));

const BY_NAME = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.plural, k.singular, k.kind.toLowerCase(), ...k.shortNames]) BY_NAME.set(n, k);
}

export function kindForPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}

/** 'job' | 'jobs' | 'Job' | short name -> KindInfo. */
export function resolveKind(name: string): KindInfo | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** True when `name` may not be used as a namespace because it would shadow a global route (`/clusters/...`). */
export function isReservedNamespace(name: string): boolean {
  return KINDS.some((k) => k.plural === name);
}

export { normalizeObject, normalizeStatus } from './normalize.js';

/** `/registry/{plural}/{namespace}/{name}` or `/registry/{plural}/{name}`; omit name for a prefix (ends in '/'). */
export function storageKey(kind: KindInfo, namespace: string | undefined, name?: string): string {
  const base = kind.namespaced && namespace ? `/registry/${kind.plural}/${namespace}/` : `/registry/${kind.plural}/`;
  return name === undefined ? base : base + name;
}
