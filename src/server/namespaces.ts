/**
 * Namespace rules: `default` always exists and cannot be deleted, names that
 * equal a plural (or a server path) are reserved, namespaced objects need an
 * existing namespace, and deleting a namespace deletes what is in it.
 */
import { ApiError, invalid, storageKey, type KindInfo } from '../api/index.js';
import { type ServerContext } from './context.js';
import { forCreate } from './objects.js';
import { RESERVED_NAMESPACES } from './router.js';

const DEFAULT_NAMESPACE = 'default';

export function isNamespaceKind(kind: KindInfo): boolean {
  return kind.plural === 'namespaces' && !kind.namespaced;
}

function namespaceKind(ctx: ServerContext): KindInfo | undefined {
  return ctx.kinds.find(isNamespaceKind);
}

export function checkNamespaceCreate(ctx: ServerContext, name: string): void {
  if (ctx.router.isPlural(name) || RESERVED_NAMESPACES.has(name)) {
    throw invalid(`namespace '${name}'`, [{ field: 'metadata.name', message: `'${name}' is reserved: it is a resource type or server path` }]);
  }
}

export async function assertNamespaceExists(ctx: ServerContext, namespace: string): Promise<void> {
  const kind = namespaceKind(ctx);
  if (!kind) return; // no Namespace kind registered: namespaces are implicit
  const key = storageKey(kind, undefined, namespace);
  // The cache answers the common case; the store settles a namespace created a moment ago.
  if (ctx.caches.get(kind.plural)?.get(key)) return;
  if (await ctx.store.get(key)) return;
  throw new ApiError('NotFound', `namespace '${namespace}' not found`);
}

/** Creates `default` if absent; run once at start. */
export async function ensureDefaultNamespace(ctx: ServerContext): Promise<void> {
  const kind = namespaceKind(ctx);
  if (!kind) return;
  const key = storageKey(kind, undefined, DEFAULT_NAMESPACE);
  if (await ctx.store.get(key)) return;
  const obj = forCreate(kind, { kind: kind.kind, metadata: { name: DEFAULT_NAMESPACE } }, ctx.now);
  try {
    await ctx.store.create(key, obj);
  } catch (err) {
    // Another server instance may have won the race.
    if (!(err instanceof Error && err.name === 'StoreError' && (err as { code?: unknown }).code === 'AlreadyExists')) throw err;
  }
}

/** Deletes every namespaced object in `namespace`, kind by kind. */
export async function deleteNamespaceContents(ctx: ServerContext, namespace: string): Promise<void> {
  for (const kind of ctx.kinds) {
    if (!kind.namespaced) continue;
    const prefix = storageKey(kind, namespace);
    for (;;) {
      if (ctx.signal.aborted) return;
      const page = await ctx.store.list(prefix, { limit: 500 });
      if (page.items.length === 0) break;
      for (const kv of page.items) {
        try {
          await ctx.store.delete(kv.key);
        } catch (err) {
          if (!(err instanceof Error && err.name === 'StoreError' && (err as { code?: unknown }).code === 'NotFound')) throw err;
        }
      }
    }
  }
}
