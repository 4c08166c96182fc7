/**
 * Browser sessions of the web UI: a random secret (kept by the browser in an HttpOnly cookie)
 * whose SHA-256 is stored as a token of kind 'session', so sessions are listed and revoked like
 * any token, and end when the user is deleted (the store cascades) or changes their password
 * (AccountService revokes them). A session carries its CSRF token: derived from the secret, so
 * only a page that can read the session's answers (same origin) learns it.
 */
import crypto from 'node:crypto';
import { AccessDeniedError } from './errors.ts';
import type { UserPrincipal } from './authenticator.ts';
import type { AccountStore } from './store.ts';
import { hashSecret, newSecret, newTokenId } from './token-secrets.ts';

export const SESSION_PREFIX = 'berth_ses_';
/** How often a session's last use is written at most. */
const TOUCH_INTERVAL_MS = 5 * 60_000;

export interface StartedSession {
  secret: string;
  csrfToken: string;
  expiresAt: number;
}

export class Sessions {
  constructor(
    private readonly store: AccountStore,
    /** How long a session lasts after sign-in. */
    readonly ttlMs: number,
  ) {}

  /** A session for a user who just proved their password; `client` names it in token lists. */
  async start(user: UserPrincipal, client: string): Promise<StartedSession> {
    if (user.via !== 'password') throw new AccessDeniedError('sign in with a password: access tokens and htpasswd users cannot open web sessions');
    const now = Date.now();
    // Sessions that ran out are forgotten as their user signs in again.
    for (const t of await this.store.listTokens(user.name)) {
      if (t.kind === 'session' && t.expiresAt !== null && t.expiresAt <= now) await this.store.revokeToken(t.id);
    }
    const secret = newSecret(SESSION_PREFIX);
    const expiresAt = now + this.ttlMs;
    await this.store.createToken({
      id: newTokenId(),
      user: user.name,
      kind: 'session',
      name: `web session (${client || 'unknown browser'})`,
      secretHash: hashSecret(secret),
      scopes: null,
      expiresAt,
    });
    return { secret, csrfToken: csrfToken(secret), expiresAt };
  }

  /** The user a live session belongs to; undefined for an unknown, ended or expired one. */
  async resolve(secret: string): Promise<UserPrincipal | undefined> {
    if (!secret.startsWith(SESSION_PREFIX)) return undefined;
    const now = Date.now();
    const token = await this.store.findToken(hashSecret(secret), now);
    if (token === undefined || token.kind !== 'session') return undefined;
    if (token.lastUsedAt === null || now - token.lastUsedAt > TOUCH_INTERVAL_MS) await this.store.touchToken(token.id, now);
    const user = await this.store.getUser(token.user);
    return user === undefined ? undefined : { kind: 'user', name: user.name, admin: user.admin, via: 'session' };
  }

  /** End a session (sign-out); unknown secrets are ignored. */
  async end(secret: string): Promise<void> {
    if (!secret.startsWith(SESSION_PREFIX)) return;
    const token = await this.store.findToken(hashSecret(secret), Date.now());
    if (token?.kind === 'session') await this.store.revokeToken(token.id);
  }
}

/** The CSRF token of a session: a keyed hash of its secret, compared in constant time. */
export function csrfToken(secret: string): string {
  return crypto.createHmac('sha256', secret).update('berth-csrf').digest('base64url');
}

export function csrfMatches(secret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfToken(secret));
  const given = Buffer.from(presented);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
