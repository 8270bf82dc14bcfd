/**
 * Agent join tokens (DESIGN section 12): a signed token that acts for one
 * cluster only, as Principal `{ user: 'system:agent:<name>', agentCluster }`.
 * Valid while (1) unexpired, (2) the Cluster it was minted for still exists
 * (same uid: deleting the Cluster, or re-creating one of that name, kills it),
 * and (3) it carries the cluster's current generation, kept server-side
 * (secrets.ts): a revoke deletes the generation, killing every token minted so far.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, isDnsLabel } from '../../api/index.js';
import type { Secrets } from './secrets.js';
import type { TokenSigner } from './tokens.js';

export const AGENT_USER_PREFIX = 'system:agent:';
/** Default lifetime: long, as a machine's join token is installed once (rotate with a revoke + mint). */
export const AGENT_TOKEN_DEFAULT_SECONDS = 365 * 24 * 3600;
export const AGENT_TOKEN_MIN_SECONDS = 60;
export const AGENT_TOKEN_MAX_SECONDS = 10 * 365 * 24 * 3600;

export interface VerifiedAgent {
  user: string;
  agentCluster: string;
  clusterUid: string;
  expiresAtSeconds: number;
}

export function agentUser(cluster: string): string {
  return AGENT_USER_PREFIX + cluster;
}

/** 400 unless `ttl` (absent: the default) is a whole number of seconds in range. */
export function agentTokenTtl(ttl: unknown): number {
  if (ttl === undefined || ttl === null || ttl === '') return AGENT_TOKEN_DEFAULT_SECONDS;
  const n = typeof ttl === 'string' && /^\d{1,12}$/.test(ttl) ? Number(ttl) : ttl;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < AGENT_TOKEN_MIN_SECONDS || n > AGENT_TOKEN_MAX_SECONDS) {
    throw new ApiError('BadRequest', `ttlSeconds must be a whole number of seconds from ${AGENT_TOKEN_MIN_SECONDS} to ${AGENT_TOKEN_MAX_SECONDS}`);
  }
  return n;
}

export function checkClusterName(name: string): void {
  if (!isDnsLabel(name)) throw new ApiError('BadRequest', `'${name.slice(0, 80)}' is not a valid cluster name`);
}

export class AgentTokens {
  constructor(
    private readonly signer: TokenSigner,
    private readonly secrets: Secrets,
  ) {}

  /** A new token for the Cluster `cluster` whose uid is `clusterUid` (the caller checked it exists and may mint). */
  async mint(cluster: string, clusterUid: string, ttlSeconds: number): Promise<{ cluster: string; token: string; expiresAt: string }> {
    const record = await this.secrets.ensureAgentTokens(cluster, clusterUid, () => randomBytes(16).toString('hex'));
    const { token, expiresAt } = await this.signer.signAgent(cluster, clusterUid, record.generation, ttlSeconds);
    return { cluster, token, expiresAt: expiresAt.toISOString() };
  }

  async revoke(cluster: string): Promise<void> {
    await this.secrets.revokeAgentTokens(cluster);
  }

  /** The agent a token names if it is validly signed, unexpired and of the current generation; the Cluster's uid is the caller's to check. */
  async verify(token: string): Promise<VerifiedAgent | undefined> {
    const claims = await this.signer.verifyAgent(token);
    if (!claims || !isDnsLabel(claims.cluster)) return undefined;
    const record = await this.secrets.agentTokens(claims.cluster);
    if (!record || record.generation !== claims.generation || record.clusterUid !== claims.clusterUid) return undefined;
    return {
      user: agentUser(claims.cluster),
      agentCluster: claims.cluster,
      clusterUid: claims.clusterUid,
      expiresAtSeconds: claims.expiresAt.getTime() / 1000,
    };
  }
}
