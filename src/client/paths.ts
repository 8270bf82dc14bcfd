// The schema-free table, so a client (and a short-lived skyctl) never loads the schemas to build a path.
import { resolveKindName, type KindName } from '../api/kind-names.js';
import type { KindInfo } from '../api/index.js';

/** A kind given as its KindInfo or any name `resolveKind` understands ('jobs', 'job', 'Job'). */
export type KindRef = KindInfo | KindName | string;

export function kindInfo(ref: KindRef, namespace?: string): Pick<KindInfo, 'plural' | 'namespaced'> & Partial<KindName> {
  if (typeof ref !== 'string') return ref;
  const found = resolveKindName(ref);
  if (found) return found;
  // Unknown to this client build (e.g. a newer server): trust the caller's namespace.
  return { plural: ref.toLowerCase(), namespaced: namespace !== undefined };
}

/** DESIGN §4: `/{plural}[/{name}]` for global kinds and all-namespace lists, `/{ns}/{plural}[/{name}]` otherwise. */
export function objectPath(kind: Pick<KindInfo, 'plural' | 'namespaced'>, namespace: string | undefined, name?: string): string {
  const parts: string[] = [];
  if (kind.namespaced && namespace) parts.push(namespace);
  parts.push(kind.plural);
  if (name !== undefined) parts.push(name);
  return '/' + parts.map(encodeURIComponent).join('/');
}
