/**
 * Where the request gate reads Roles and Users from. Reading them from the
 * store on every request cost a role scan plus a user get per request; once
 * the API server is built, the gate reads its watch caches instead (one per
 * kind, fed by a store watch), so a role or user change takes effect with the
 * next watch event, and at once for every write this server made
 * (read-your-writes, as the resource handlers do with `caughtUp`).
 *
 * The account flows (login, register, invites, role writes) keep reading the
 * store directly: they are rare, and they decide what gets granted.
 */
import { kindForPlural, storageKey, type KindInfo, type RoleSpec } from '../../api/index.js';
import { caughtUp, noteWrite, type ServerContext } from '../context.js';
import type { Store } from '../store.js';
import type { KindCache } from '../watch-cache.js';
import { RuleIndex, type RoleView } from './rbac.js';

export interface UserRecord {
  /** metadata.uid: tells a re-created user of the same name from the one a token was verified for. */
  readonly uid: string;
}

/** Roles (precomputed per user) and users as of one moment. */
export interface AccessSnapshot {
  readonly rules: RuleIndex;
  user(name: string): UserRecord | undefined;
  /** The Cluster of that name (its uid): an agent join token lives only as long as the Cluster it was minted for. */
  cluster(name: string): UserRecord | undefined;
}

export interface AccessView {
  /** The snapshot if it already reflects every write this server made; undefined: call `settled`. */
  current(): AccessSnapshot | undefined;
  /** Waits until it does (503 if the caches do not catch up in time). */
  settled(): Promise<AccessSnapshot>;
  /** The Directory wrote a role or user at `revision`: later reads must see it. */
  wrote(kind: KindInfo, revision: number): void;
  /** The Directory deleted `key`, last written at `lastRevision`: resolves once reads no longer see it. */
  deleted(kind: KindInfo, key: string, lastRevision: number): Promise<void>;
}

/** The fallback before the server exists (bootstrap) or when it serves no Role/User cache: the store itself. */
export class StoreView implements AccessView {
  constructor(
    private readonly store: Store,
    private readonly roles: KindInfo,
    private readonly users: KindInfo,
  ) {}

  current(): undefined {
    return undefined;
  }

  async settled(): Promise<AccessSnapshot> {
    const clusters = kindForPlural('clusters');
    const [roles, users, clusterObjs] = await Promise.all([
      this.listAll(this.roles),
      this.listAll(this.users),
      clusters ? this.listAll(clusters) : Promise.resolve([]),
    ]);
    const byName = uidsByName(users);
    const clusterByName = uidsByName(clusterObjs);
    return { rules: new RuleIndex(roles.flatMap(roleView)), user: (name) => byName.get(name), cluster: (name) => clusterByName.get(name) };
  }

  wrote(): void {}

  async deleted(): Promise<void> {}

  private async listAll(kind: KindInfo): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let startAfter: string | undefined;
    do {
      const page = await this.store.list(storageKey(kind, undefined), { limit: 1000, ...(startAfter ? { startAfter } : {}) });
      for (const kv of page.items) out.push(kv.value);
      startAfter = page.more;
    } while (startAfter);
    return out;
  }
}

/** The API server's watch caches for roles and users. */
export class CacheView implements AccessView {
  private built: { revision: number; snapshot: AccessSnapshot } | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly roles: KindCache,
    private readonly users: KindCache,
  ) {}

  /** undefined if the server has no cache for roles or users (a reduced `kinds` list). */
  static of(ctx: ServerContext, roles: KindInfo, users: KindInfo): CacheView | undefined {
    const r = ctx.caches.get(roles.plural);
    const u = ctx.caches.get(users.plural);
    return r && u ? new CacheView(ctx, r, u) : undefined;
  }

  current(): AccessSnapshot | undefined {
    return this.fresh(this.roles) && this.fresh(this.users) ? this.snapshot() : undefined;
  }

  async settled(): Promise<AccessSnapshot> {
    await caughtUp(this.ctx, this.roles.kind);
    await caughtUp(this.ctx, this.users.kind);
    const clusters = this.ctx.caches.get('clusters');
    if (clusters) await caughtUp(this.ctx, clusters.kind);
    return this.snapshot();
  }

  wrote(kind: KindInfo, revision: number): void {
    noteWrite(this.ctx, kind, revision);
  }

  async deleted(kind: KindInfo, key: string, lastRevision: number): Promise<void> {
    // The store does not return a delete's revision (as in resources.ts deleteObject):
    // wait for the cache to apply the delete, then require every later read to be past it.
    const cache = this.ctx.caches.get(kind.plural);
    if (!cache) return;
    const gone = () => {
      const now = cache.get(key);
      return cache.revision > lastRevision && (now === undefined || now.revision > lastRevision);
    };
    await cache.waitUntil(gone, this.ctx.readTimeoutMs);
    noteWrite(this.ctx, kind, gone() ? cache.revision : lastRevision + 1);
  }

  private fresh(cache: KindCache): boolean {
    return cache.synced && cache.revision >= (this.ctx.lastWrite.get(cache.kind.plural) ?? 0);
  }

  /**
   * The rule index is rebuilt whenever the roles cache moves: its revision
   * changes with every Role event (and a relist), so no grant or revocation
   * is ever answered from an older index.
   */
  private snapshot(): AccessSnapshot {
    const revision = this.roles.revision;
    if (this.built?.revision !== revision) {
      const roles = this.roles.list(this.roles.prefix).items.flatMap((c) => roleView(c.obj));
      this.built = { revision, snapshot: { rules: new RuleIndex(roles), user: (name) => this.user(name), cluster: (name) => this.cluster(name) } };
    }
    return this.built.snapshot;
  }

  private cluster(name: string): UserRecord | undefined {
    const cache = this.ctx.caches.get('clusters');
    const found = cache?.get(storageKey(cache.kind, undefined, name));
    return found ? { uid: uidOf(found.obj) } : undefined;
  }

  private user(name: string): UserRecord | undefined {
    const found = this.users.get(storageKey(this.users.kind, undefined, name));
    return found ? { uid: uidOf(found.obj) } : undefined;
  }
}

function uidsByName(objs: Record<string, unknown>[]): Map<string, UserRecord> {
  const byName = new Map<string, UserRecord>();
  for (const obj of objs) {
    const name = nameOf(obj);
    if (name !== undefined) byName.set(name, { uid: uidOf(obj) });
  }
  return byName;
}

function nameOf(obj: Record<string, unknown>): string | undefined {
  const name = (obj.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function uidOf(obj: Record<string, unknown>): string {
  const uid = (obj.metadata as { uid?: unknown } | undefined)?.uid;
  return typeof uid === 'string' ? uid : '';
}

function roleView(obj: Record<string, unknown>): RoleView[] {
  const name = nameOf(obj);
  const spec = obj.spec as RoleSpec | undefined;
  return name !== undefined && spec ? [{ name, spec }] : [];
}
