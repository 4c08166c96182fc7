/**
 * Bearer tokens as Docker's token specification describes them: JWTs signed by berth's token
 * server (ES256, `kid` in the header), with `iss`, `sub`, `aud` (the service), `exp`/`nbf`/`iat`,
 * `jti` and the `access` claim listing the granted actions per resource.
 *
 * Verification checks the signature against the key named by `kid`, the issuer, the audience and
 * the time window (tampered, expired, wrongly-signed or wrong-audience tokens fail). A token that
 * verified is remembered until it expires, so the hot path pays one map lookup per request, not a
 * signature check.
 */
import crypto from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthenticationError } from './errors.ts';
import { SIGNING_ALGORITHM, type SigningKeys } from './keys.ts';
import type { Scope } from './scope.ts';

export interface TokenSettings {
  issuer: string;
  service: string;
  /** Lifetime of an access token, in seconds. */
  expiresInSec: number;
  /** Leeway for the clocks of several berth nodes, in seconds (default 30). */
  clockToleranceSec?: number;
}

/** What a verified token grants: actions by resource (`repository:alice/app`, `registry:catalog`). */
export interface VerifiedToken {
  subject: string;
  expiresAt: number;
  access: Map<string, ReadonlySet<string>>;
  /**
   * The scopes of the access token the caller logged in with, when it was a scoped one: the
   * subject may do no more than these with this token (not the user's full rights, in the
   * management API or on admin routes either).
   */
  restrict: readonly string[] | undefined;
}

/** The claim carrying the scopes of the access token a token was issued for. */
const RESTRICT_CLAIM = 'berth_restrict';

interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

export function resourceKey(type: string, name: string): string {
  return `${type}:${name}`;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

export class TokenService {
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: 10_000 });
  private readonly clockToleranceSec: number;
  /** The key set generation the cache was filled under. */
  private generation = -1;

  constructor(
    private readonly keys: SigningKeys,
    readonly settings: TokenSettings,
  ) {
    this.clockToleranceSec = settings.clockToleranceSec ?? 30;
  }

  /** Sign a token for `subject` ('' for anonymous) granting `access`. */
  async issue(subject: string, access: readonly Scope[], restrict?: readonly string[]): Promise<IssuedToken> {
    await this.keys.refresh();
    const key = this.keys.current;
    const now = new Date();
    const iat = Math.floor(now.getTime() / 1000);
    const claims: JWTPayload & { access: AccessClaim[] } = {
      access: access.map((s) => ({ type: s.type, name: s.name, actions: [...s.actions] })),
      ...(restrict !== undefined && { [RESTRICT_CLAIM]: [...restrict] }),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.settings.issuer)
      .setSubject(subject)
      .setAudience(this.settings.service)
      .setIssuedAt(iat)
      .setNotBefore(iat - 1)
      .setExpirationTime(iat + this.settings.expiresInSec)
      .setJti(crypto.randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: this.settings.expiresInSec, issuedAt: now };
  }

  /** Verify a bearer token; throws AuthenticationError when it is not one of ours or not valid now. */
  async verify(token: string): Promise<VerifiedToken> {
    // Keys removed (pruned, by this process or the CLI) take the tokens they signed with them.
    await this.keys.refresh();
    if (this.keys.generation !== this.generation) {
      this.verified.clear();
      this.generation = this.keys.generation;
    }
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > Date.now()) return cached;
      this.verified.delete(token);
    }
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new AuthenticationError('malformed bearer token');
    }
    if (kid === undefined) throw new AuthenticationError('bearer token has no key id');
    let key = this.keys.find(kid);
    if (key === undefined) {
      await this.keys.refresh();
      key = this.keys.find(kid);
    }
    if (key === undefined) throw new AuthenticationError('bearer token signed by an unknown key');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [SIGNING_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.service,
        clockTolerance: this.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw new AuthenticationError(`invalid bearer token: ${(err as Error).message}`);
    }
    const result: VerifiedToken = { subject: payload.sub ?? '', expiresAt: (payload.exp ?? 0) * 1000 + this.clockToleranceSec * 1000, access: new Map(), restrict: undefined };
    const restrict = payload[RESTRICT_CLAIM];
    if (restrict !== undefined) result.restrict = Array.isArray(restrict) ? restrict.filter((s): s is string => typeof s === 'string') : [];
    const access = (payload as { access?: unknown }).access;
    if (Array.isArray(access)) {
      for (const entry of access as Partial<AccessClaim>[]) {
        if (typeof entry.type !== 'string' || typeof entry.name !== 'string' || !Array.isArray(entry.actions)) continue;
        const k = resourceKey(entry.type, entry.name);
        result.access.set(k, new Set([...(result.access.get(k) ?? []), ...entry.actions.filter((a) => typeof a === 'string')]));
      }
    }
    this.verified.set(token, result);
    return result;
  }
}
