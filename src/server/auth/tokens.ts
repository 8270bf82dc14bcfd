/**
 * Signed JWTs (jose, HS256). Access, invite and agent join tokens carry
 * different audiences, so one can never be used as another.
 */
import { SignJWT, decodeJwt, jwtVerify } from 'jose';

const ISSUER = 'skyshift';
const ACCESS = 'skyshift-api';
const INVITE = 'skyshift-invite';
const AGENT = 'skyshift-agent';
const ALG = 'HS256';

export interface AccessClaims {
  user: string;
  expiresAt: Date;
}

export interface InviteClaims {
  nonce: string;
  expiresAt: Date;
}

/** An agent join token (DESIGN section 12): one cluster, bound to its uid and to the cluster's current token generation. */
export interface AgentClaims {
  cluster: string;
  /** metadata.uid of the Cluster when the token was minted: deleting the Cluster kills the token. */
  clusterUid: string;
  /** Must equal the generation kept server-side (secrets.ts); a revoke replaces it. */
  generation: string;
  expiresAt: Date;
}

export class TokenSigner {
  constructor(
    private readonly key: Uint8Array,
    private readonly now: () => Date,
  ) {}

  async signAccess(user: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    return this.sign({}, user, ACCESS, ttlSeconds);
  }

  /** Invites carry only the nonce: roles and state live server-side, so a revoke takes effect at once. */
  async signInvite(nonce: string, inviter: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    return this.sign({ nonce }, inviter, INVITE, ttlSeconds);
  }

  async signAgent(cluster: string, clusterUid: string, generation: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    return this.sign({ cuid: clusterUid, gen: generation }, cluster, AGENT, ttlSeconds);
  }

  async verifyAgent(token: string): Promise<AgentClaims | undefined> {
    const payload = await this.verify(token, AGENT);
    if (!payload || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
    if (typeof payload.cuid !== 'string' || typeof payload.gen !== 'string') return undefined;
    return { cluster: payload.sub, clusterUid: payload.cuid, generation: payload.gen, expiresAt: new Date(payload.exp * 1000) };
  }

  /** undefined for anything not a valid, unexpired access token of ours. */
  async verifyAccess(token: string): Promise<AccessClaims | undefined> {
    const payload = await this.verify(token, ACCESS);
    if (!payload || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
    return { user: payload.sub, expiresAt: new Date(payload.exp * 1000) };
  }

  async verifyInvite(token: string): Promise<InviteClaims | undefined> {
    const payload = await this.verify(token, INVITE);
    if (!payload || typeof payload.nonce !== 'string' || typeof payload.exp !== 'number') return undefined;
    return { nonce: payload.nonce, expiresAt: new Date(payload.exp * 1000) };
  }

  private async sign(claims: Record<string, unknown>, subject: string, audience: string, ttlSeconds: number) {
    const issuedAt = Math.floor(this.now().getTime() / 1000);
    const exp = issuedAt + Math.max(1, Math.floor(ttlSeconds));
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  private async verify(token: string, audience: string) {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience,
        algorithms: [ALG],
        currentDate: this.now(),
      });
      return payload;
    } catch {
      return undefined; // bad signature, expired, malformed: all simply "not valid"
    }
  }
}

/** The nonce of an invite token without checking it (for revoking, where the server record decides). */
export function unverifiedInviteNonce(token: string): string | undefined {
  try {
    const nonce = decodeJwt(token).nonce;
    return typeof nonce === 'string' ? nonce : undefined;
  } catch {
    return undefined;
  }
}
