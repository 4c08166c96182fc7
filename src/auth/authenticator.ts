/**
 * Proving who a caller is: a user name with a password (argon2id, or bcrypt from distribution's
 * htpasswd file), with an access token as the password (robots, CI), a `docker login` refresh
 * token, or a bearer token from the token server. Failures are throttled per user and address
 * (throttle.ts: a locked user is refused, a busy address only slowed down); an unknown user costs
 * the same time as a wrong password. A successful password check is remembered for a minute (by a
 * hash of user, password and stored hash), so clients that send Basic credentials with every
 * request do not pay a hash each time.
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { AuthenticationError, LoginThrottledError } from './errors.ts';
import type { HtpasswdFile } from './htpasswd.ts';
import { verifyDecoy, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
import { parseScope, type Scope } from './scope.ts';
import type { AccountStore, TokenRecord } from './store.ts';
import { hashSecret, isTokenSecret, newSecret, newTokenId, REFRESH_PREFIX } from './token-secrets.ts';
import type { FailureCounts } from './failure-store.ts';
import type { LoginThrottle } from './throttle.ts';

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export interface AuthenticatorOptions {
  store: AccountStore;
  /** Its failure counts may be in a database (shared by nodes): failures and successes are awaited. */
  throttle: LoginThrottle<FailureCounts>;
  htpasswd?: HtpasswdFile;
  log?: Logger;
  /** Told of every refused credential (for the auth failures metric). */
  onFailure?: () => void;
}

const GENERIC_FAILURE = 'incorrect username or password';
/** How often a token's last use is written at most. */
const TOUCH_INTERVAL_MS = 5 * 60_000;

export class Authenticator {
  private readonly goodPasswords = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });

  constructor(private readonly opts: AuthenticatorOptions) {}

  /** Check a user name and password (or access token); throws AuthenticationError. */
  async login(user: string, password: string, addr: string): Promise<UserPrincipal> {
    const refused = await this.opts.throttle.admit(user, addr);
    if (refused > 0) {
      this.opts.log?.info({ user, addr }, 'login refused: too many failures');
      throw new LoginThrottledError(Math.ceil(refused / 1000));
    }
    const principal = await this.check(user, password);
    if (principal === undefined) {
      await this.opts.throttle.failed(user, addr);
      this.opts.onFailure?.();
      this.opts.log?.info({ user, addr }, 'login failed');
      throw new AuthenticationError(GENERIC_FAILURE);
    }
    await this.opts.throttle.succeeded(user, addr);
    return principal;
  }

  /** A refresh token handed out by the token server (docker's identity token). */
  async refresh(secret: string, addr: string): Promise<UserPrincipal> {
    // A refresh token names nobody until it is found: only the address is counted (and slowed).
    const refused = await this.opts.throttle.admit(undefined, addr);
    if (refused > 0) throw new LoginThrottledError(Math.ceil(refused / 1000));
    const token = secret.startsWith(REFRESH_PREFIX) ? await this.liveToken(secret) : undefined;
    const user = token && (await this.opts.store.getUser(token.user));
    if (token === undefined || user === undefined || token.kind !== 'refresh') {
      await this.opts.throttle.failed(undefined, addr);
      this.opts.onFailure?.();
      throw new AuthenticationError('invalid or revoked refresh token');
    }
    return { kind: 'user', name: user.name, admin: user.admin, via: 'token' };
  }

  /** Whether `name` is a user of distribution's htpasswd file (who may do everything). */
  isHtpasswdUser(name: string): boolean {
    return this.opts.htpasswd?.has(name) === true;
  }

  /** A new refresh token for a user who just logged in with a password (offline_token=true). */
  async issueRefreshToken(user: string, client: string): Promise<string> {
    const secret = newSecret(REFRESH_PREFIX);
    await this.opts.store.createToken({
      id: newTokenId(),
      user,
      kind: 'refresh',
      name: `login (${client || 'unknown client'})`,
      secretHash: hashSecret(secret),
      scopes: null,
      expiresAt: null,
    });
    return secret;
  }

  private async check(user: string, password: string): Promise<UserPrincipal | undefined> {
    if (isTokenSecret(password)) return this.checkToken(user, password);
    const htpasswd = this.opts.htpasswd?.lookup(user);
    if (htpasswd !== undefined) {
      return (await this.verifyCached(user, password, htpasswd)) ? { kind: 'user', name: user, admin: true, via: 'htpasswd' } : undefined;
    }
    const record = await this.opts.store.getUser(user);
    if (record === undefined || record.passwordHash === null) return verifyDecoy(password).then(() => undefined);
    return (await this.verifyCached(user, password, record.passwordHash)) ? { kind: 'user', name: user, admin: record.admin, via: 'password' } : undefined;
  }

  private async checkToken(user: string, secret: string): Promise<UserPrincipal | undefined> {
    const token = await this.liveToken(secret);
    // The user name must be the token's owner: a leaked secret alone names nobody.
    if (token === undefined || token.user !== user || token.kind !== 'pat') return undefined;
    const record = await this.opts.store.getUser(user);
    if (record === undefined) return undefined;
    const restrict: Scope[] | undefined = token.scopes === null ? undefined : token.scopes.map((s) => parseScope(s, true));
    return { kind: 'user', name: user, admin: record.admin, via: 'token', ...(restrict && { restrict }) };
  }

  private async liveToken(secret: string): Promise<TokenRecord | undefined> {
    const now = Date.now();
    const token = await this.opts.store.findToken(hashSecret(secret), now);
    if (token !== undefined && (token.lastUsedAt === null || now - token.lastUsedAt > TOUCH_INTERVAL_MS)) await this.opts.store.touchToken(token.id, now);
    return token;
  }

  private async verifyCached(user: string, password: string, stored: string): Promise<boolean> {
    const key = crypto.createHash('sha256').update(user).update('\0').update(password).update('\0').update(stored).digest('base64');
    if (this.goodPasswords.has(key)) return true;
    const ok = await verifyPassword(stored, password);
    if (ok) this.goodPasswords.set(key, true);
    return ok;
  }
}
