/**
 * Role and User objects, read and written straight through the store (they
 * are ordinary kinds, served by the generic routes; this is the server's own
 * access for login, invites and bootstrap).
 */
import { randomUUID } from 'node:crypto';
import { kindForPlural, normalizeObject, type ApiObject, storageKey, type KindInfo, type RoleSpec, type UserSpec } from '../../api/index.js';
import type { KeyValue, Store } from '../store.js';
import type { RoleView } from './rbac.js';

/** Told of every write, so the gate's cached view waits for it (read-your-writes); see view.ts. */
export interface WriteTracker {
  wrote(kind: KindInfo, revision: number): void;
  deleted(kind: KindInfo, key: string, lastRevision: number): Promise<void>;
}

function kind(plural: string): KindInfo {
  const k = kindForPlural(plural);
  if (!k) throw new Error(`kind ${plural} is not registered`);
  return k;
}

function isStoreCode(err: unknown, code: string): boolean {
  return err instanceof Error && err.name === 'StoreError' && (err as { code?: unknown }).code === code;
}

export class Directory {
  readonly roles = kind('roles');
  readonly users = kind('users');
  /** Replaced once the API server exists; before that (bootstrap) nobody reads a cache. */
  tracker: WriteTracker = { wrote: () => {}, deleted: async () => {} };

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  async listRoles(): Promise<RoleView[]> {
    const out: RoleView[] = [];
    let startAfter: string | undefined;
    do {
      const page = await this.store.list(storageKey(this.roles, undefined), { limit: 1000, ...(startAfter ? { startAfter } : {}) });
      for (const kv of page.items) {
        const obj = kv.value as { metadata?: { name?: string }; spec?: RoleSpec };
        if (obj.metadata?.name && obj.spec) out.push({ name: obj.metadata.name, spec: obj.spec });
      }
      startAfter = page.more;
    } while (startAfter);
    return out;
  }

  async role(name: string): Promise<RoleView | undefined> {
    const kv = await this.store.get(storageKey(this.roles, undefined, name));
    const obj = kv?.value as { spec?: RoleSpec } | undefined;
    return obj?.spec ? { name, spec: obj.spec } : undefined;
  }

  /** The stored Role object and its revision (the role guard computes a write's outcome from it). */
  async roleRecord(name: string): Promise<{ value: ApiObject; revision: number } | undefined> {
    const kv = await this.store.get(storageKey(this.roles, undefined, name));
    return kv ? { value: kv.value as ApiObject, revision: kv.modRevision } : undefined;
  }

  async userExists(name: string): Promise<boolean> {
    return (await this.store.get(storageKey(this.users, undefined, name))) !== undefined;
  }

  async user(name: string): Promise<{ spec: UserSpec } | undefined> {
    const kv = await this.store.get(storageKey(this.users, undefined, name));
    return kv ? (kv.value as { spec: UserSpec }) : undefined;
  }

  /** Throws the same 422 a create would (bad name or e-mail), before anything is written. */
  checkUser(name: string, spec: Partial<UserSpec>): void {
    normalizeObject(this.users, { kind: this.users.kind, metadata: { name }, spec });
  }

  /** false if the user already exists. */
  async createUser(name: string, spec: Partial<UserSpec>): Promise<boolean> {
    return this.create(this.users, name, spec);
  }

  /** Creates the role if absent; an existing role is never touched (an operator may have edited it). */
  async createRoleIfAbsent(name: string, spec: RoleSpec): Promise<boolean> {
    return this.create(this.roles, name, spec);
  }

  async deleteUser(name: string): Promise<boolean> {
    const key = storageKey(this.users, undefined, name);
    try {
      const kv = await this.store.delete(key);
      // The deleted user's tokens must fail on the very next request.
      await this.tracker.deleted(this.users, key, kv.modRevision);
      return true;
    } catch (err) {
      if (isStoreCode(err, 'NotFound')) return false;
      throw err;
    }
  }

  async addUserToRole(role: string, user: string): Promise<boolean> {
    return this.editRole(role, (users) => (users.includes(user) ? undefined : [...users, user]));
  }

  async removeUserFromRoles(user: string): Promise<void> {
    for (const role of await this.listRoles()) {
      if (role.spec.users.includes(user)) await this.editRole(role.name, (users) => users.filter((u) => u !== user));
    }
  }

  /** Read-modify-write with the store's compare-and-swap, retried on conflict. */
  private async editRole(name: string, edit: (users: string[]) => string[] | undefined): Promise<boolean> {
    const key = storageKey(this.roles, undefined, name);
    for (let attempt = 0; attempt < 10; attempt++) {
      const kv: KeyValue | undefined = await this.store.get(key);
      if (!kv) return false;
      const obj = structuredClone(kv.value) as { spec: RoleSpec; metadata: { generation?: number } };
      const users = edit(obj.spec.users ?? []);
      if (users === undefined) return true;
      obj.spec.users = users;
      obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
      try {
        const written = await this.store.update(key, obj, kv.modRevision);
        this.tracker.wrote(this.roles, written.modRevision);
        return true;
      } catch (err) {
        if (!isStoreCode(err, 'Conflict')) throw err;
      }
    }
    throw new Error(`role ${name} kept changing; gave up updating it`);
  }

  private async create(k: KindInfo, name: string, spec: unknown): Promise<boolean> {
    const obj = normalizeObject(k, { kind: k.kind, metadata: { name }, spec });
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = this.now().toISOString();
    obj.metadata.generation = 1;
    delete obj.metadata.resourceVersion;
    try {
      const written = await this.store.create(storageKey(k, undefined, name), obj);
      this.tracker.wrote(k, written.modRevision);
      return true;
    } catch (err) {
      if (isStoreCode(err, 'AlreadyExists')) return false;
      throw err;
    }
  }
}
