/**
 * Credentials, kept under /registry/secrets/ — a prefix no kind's plural maps
 * to, so no generic route, list or watch can ever serve them:
 *   /registry/secrets/users/<name>      {passwordHash}
 *   /registry/secrets/tokens/<sha256>   {user}   service-account tokens, digest only
 *   /registry/secrets/invites/<nonce>   invite state (owner, roles, used, revoked)
 *   /registry/secrets/agent-tokens/<cluster>  {generation, clusterUid}: the agent join
 *                                       tokens of a cluster are valid while they carry this generation
 */
import { createHash } from 'node:crypto';
import type { JsonObject, Store } from '../store.js';

const PREFIX = '/registry/secrets';

export type InviteRecord = {
  owner: string;
  roles: string[];
  used: boolean;
  revoked: boolean;
  usedBy?: string;
  createdAt: string;
  expiresAt: string;
};

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function isStoreCode(err: unknown, code: string): boolean {
  return err instanceof Error && err.name === 'StoreError' && (err as { code?: unknown }).code === code;
}

export type AgentTokenRecord = { generation: string; clusterUid: string };

export class Secrets {
  constructor(private readonly store: Store) {}

  async passwordHash(user: string): Promise<string | undefined> {
    const kv = await this.store.get(`${PREFIX}/users/${user}`);
    const hash = kv?.value.passwordHash;
    return typeof hash === 'string' ? hash : undefined;
  }

  async setPasswordHash(user: string, passwordHash: string): Promise<void> {
    await this.put(`${PREFIX}/users/${user}`, { passwordHash });
  }

  async addToken(user: string, token: string): Promise<void> {
    await this.put(`${PREFIX}/tokens/${tokenDigest(token)}`, { user });
  }

  async hasToken(token: string): Promise<boolean> {
    return (await this.store.get(`${PREFIX}/tokens/${tokenDigest(token)}`)) !== undefined;
  }

  /** The user a service-account token belongs to. */
  async tokenUser(token: string): Promise<string | undefined> {
    const kv = await this.store.get(`${PREFIX}/tokens/${tokenDigest(token)}`);
    const user = kv?.value.user;
    return typeof user === 'string' ? user : undefined;
  }

  /** Removes the user's password and every token of theirs. */
  async forgetUser(user: string): Promise<void> {
    await this.remove(`${PREFIX}/users/${user}`);
    const tokens = await this.store.list(`${PREFIX}/tokens/`);
    for (const kv of tokens.items) if (kv.value.user === user) await this.remove(kv.key);
  }

  async createInvite(nonce: string, record: InviteRecord): Promise<void> {
    await this.store.create(`${PREFIX}/invites/${nonce}`, { ...record });
  }

  async invite(nonce: string): Promise<{ record: InviteRecord; revision: number } | undefined> {
    const kv = await this.store.get(`${PREFIX}/invites/${nonce}`);
    return kv ? { record: kv.value as InviteRecord, revision: kv.modRevision } : undefined;
  }

  /**
   * Compare-and-swap, so two registrations racing on one invite cannot both
   * win. The new revision (to undo the change with), or undefined if the
   * invite changed or vanished since `revision`.
   */
  async updateInvite(nonce: string, record: InviteRecord, revision: number): Promise<number | undefined> {
    try {
      return (await this.store.update(`${PREFIX}/invites/${nonce}`, { ...record }, revision)).modRevision;
    } catch (err) {
      if (isStoreCode(err, 'Conflict') || isStoreCode(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  async agentTokens(cluster: string): Promise<AgentTokenRecord | undefined> {
    const kv = await this.store.get(`${PREFIX}/agent-tokens/${cluster}`);
    const { generation, clusterUid } = kv?.value ?? {};
    return typeof generation === 'string' && typeof clusterUid === 'string' ? { generation, clusterUid } : undefined;
  }

  /** The record a new token must carry: the existing one while it is for this Cluster (same uid), else a new one. */
  async ensureAgentTokens(cluster: string, clusterUid: string, fresh: () => string): Promise<AgentTokenRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.store.get(`${PREFIX}/agent-tokens/${cluster}`);
      const current = existing && (existing.value as Partial<AgentTokenRecord>);
      if (current && current.clusterUid === clusterUid && typeof current.generation === 'string') return { generation: current.generation, clusterUid };
      const record: AgentTokenRecord = { generation: fresh(), clusterUid };
      try {
        if (existing) await this.store.update(existing.key, { ...record }, existing.modRevision);
        else await this.store.create(`${PREFIX}/agent-tokens/${cluster}`, { ...record });
        return record;
      } catch (err) {
        // Another server minted or revoked at the same moment: read again.
        if (!isStoreCode(err, 'Conflict') && !isStoreCode(err, 'AlreadyExists') && !isStoreCode(err, 'NotFound')) throw err;
      }
    }
    throw new Error(`agent tokens of cluster '${cluster}' kept changing; retry`);
  }

  /** Revokes every agent token of the cluster: they carry a generation that no longer exists. */
  async revokeAgentTokens(cluster: string): Promise<void> {
    await this.remove(`${PREFIX}/agent-tokens/${cluster}`);
  }

  private async put(key: string, value: JsonObject): Promise<void> {
    const existing = await this.store.get(key);
    if (existing) await this.store.update(key, value);
    else await this.store.create(key, value);
  }

  private async remove(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (err) {
      if (!isStoreCode(err, 'NotFound')) throw err;
    }
  }
}
