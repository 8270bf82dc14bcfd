/**
 * Verified tokens, so the gate does not redo HS256 verification (or the
 * sha256 digest lookup of a service-account token in the store) on every
 * request. Only successes are kept: a bad token is re-checked each time, so
 * nothing here can make a rejected token pass later.
 *
 * An entry is bound to the uid of the User it named when it was verified: a
 * user deleted and re-created under the same name is a different object, so
 * the cached entry stops matching and the token is checked afresh (a deleted
 * user's service tokens are gone from the store by then).
 */

export interface CachedToken {
  readonly user: string;
  /** The User's metadata.uid when the token was verified; for an agent token, its Cluster's. */
  readonly uid: string;
  /** Set for an agent join token: the cluster it acts for (the uid above is that Cluster's). */
  readonly agentCluster?: string;
  /** JWT `exp` in seconds since the epoch; Infinity for service-account tokens. */
  readonly expiresAtSeconds: number;
  /** After this (ms since the epoch) the entry is checked afresh: see SERVICE_RECHECK_MS. */
  readonly recheckAtMs: number;
}

/**
 * Service-account tokens never expire; their digest can be removed from the
 * store out of band (or by another API server) without the user going away.
 * Re-reading the digest this often bounds how long such a removal takes to bite.
 */
export const SERVICE_RECHECK_MS = 10_000;

export class TokenCache {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  private readonly entries = new Map<string, CachedToken>();

  constructor(readonly capacity = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The entry for `token` if it is still good at `nowMs`. Expiry matches
   * jose's check (valid while exp > now in whole seconds), so a cached token
   * dies at the same second a fresh verification would reject it.
   */
  get(token: string, nowMs: number): CachedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAtSeconds <= Math.floor(nowMs / 1000) || nowMs >= entry.recheckAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry;
  }

  set(token: string, entry: CachedToken): void {
    this.entries.delete(token);
    this.entries.set(token, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  /** Forgets every token of `user` (it was deleted here; other servers rely on the uid binding). */
  forgetUser(user: string): void {
    for (const [token, entry] of this.entries) if (entry.user === user) this.entries.delete(token);
  }

  /** Forgets every agent token of `cluster` (they were revoked here; other servers re-check within SERVICE_RECHECK_MS). */
  forgetAgentCluster(cluster: string): void {
    for (const [token, entry] of this.entries) if (entry.agentCluster === cluster) this.entries.delete(token);
  }

  clear(): void {
    this.entries.clear();
  }
}
