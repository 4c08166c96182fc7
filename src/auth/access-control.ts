/**
 * Access control, assembled: whether it is on, how callers authenticate, what they may do, and
 * the token service. It is on when the config has an `auth` section or as soon as the first user
 * exists: created through this process (the account API, tests), it is on for the next request;
 * created by the CLI while the server runs, too (the store tells of other processes' commits).
 */
import type { AccountService } from './accounts.ts';
import type { Authenticator } from './authenticator.ts';
import type { TokenService } from './jwt.ts';
import type { SigningKeys } from './keys.ts';
import type { AccessPolicy } from './policy.ts';
import type { AccountStore } from './store.ts';
import type { Sessions } from './sessions.ts';
import { Authorizer } from './authorizer.ts';

/** What a bearer token's user is now: gone (undefined), or their name and admin flag. */
export interface CurrentUser {
  name: string;
  admin: boolean;
}

/** How long a user deleted by another process (the CLI) may go unnoticed by bearer tokens; through this process, not at all. */
const EXTERNAL_CHECK_MS = 1000;

export interface ChallengeSettings {
  /** 'bearer': Docker token authentication; 'basic': distribution's htpasswd mode. */
  scheme: 'bearer' | 'basic';
  /** Token endpoint URL (bearer) or realm name (basic); for bearer, derived from the request when unset. */
  realm: string | undefined;
  service: string;
}

export interface AccessControlParts {
  store: AccountStore;
  policy: AccessPolicy;
  authenticator: Authenticator;
  tokens: TokenService;
  keys: SigningKeys;
  accounts: AccountService;
  /** Web UI sign-ins. */
  sessions: Sessions;
  challenge: ChallengeSettings;
  /** On whatever the store holds (an `auth` section is configured). */
  alwaysOn: boolean;
  /** Told of every refused credential or token (for the auth failures metric). */
  onFailure?: () => void;
  /** The clock (tests). */
  now?: () => number;
}

export class AccessControl {
  readonly store: AccountStore;
  readonly policy: AccessPolicy;
  readonly authenticator: Authenticator;
  readonly tokens: TokenService;
  readonly keys: SigningKeys;
  readonly accounts: AccountService;
  readonly sessions: Sessions;
  readonly challenge: ChallengeSettings;
  private readonly alwaysOn: boolean;
  /** Count a refused credential or token. */
  readonly failed: () => void;
  readonly authorizer: Authorizer;
  private on = false;
  /** The store's change counts when `on` was last read. */
  private seen = '';
  /** Access was found off in this event-loop turn, with this count of this process's user changes. */
  private offThisTurn = false;
  private offChanges = -1;
  /** Users as bearer tokens see them, valid while the store's change counts stay the same. */
  private readonly users = new Map<string, CurrentUser | undefined>();
  private usersSeen = -1;
  private external = -1;
  private externalAt = -Infinity;
  private readonly now: () => number;

  constructor(parts: AccessControlParts) {
    this.store = parts.store;
    this.policy = parts.policy;
    this.authenticator = parts.authenticator;
    this.tokens = parts.tokens;
    this.keys = parts.keys;
    this.accounts = parts.accounts;
    this.sessions = parts.sessions;
    this.challenge = parts.challenge;
    this.alwaysOn = parts.alwaysOn;
    this.failed = parts.onFailure ?? (() => {});
    this.now = parts.now ?? Date.now;
    this.authorizer = new Authorizer(this);
  }

  /**
   * Whether requests must be authorised. Once on, answered from memory; while off, re-read when the
   * store says users changed. Asking the store of other processes' commits (SQLite's data_version)
   * was a tenth of a cached manifest GET's CPU, so an "off" read from it holds for the requests of
   * the same event-loop turn: they had all reached the server before it was read. A user created
   * through this process is seen at once.
   */
  async enabled(): Promise<boolean> {
    if (this.alwaysOn || this.on) return true;
    const changes = this.store.userChanges();
    if (this.offThisTurn && changes === this.offChanges) return false;
    const seen = `${changes}:${this.store.externalChanges()}`;
    if (seen !== this.seen) {
      this.seen = seen;
      this.on = await this.store.hasUsers();
      if (this.on) return true;
    }
    if (!this.offThisTurn) {
      this.offThisTurn = true;
      setImmediate(() => (this.offThisTurn = false));
    }
    this.offChanges = changes;
    return false;
  }

  /**
   * The user a bearer token names, as they are now: undefined once deleted. From memory while no
   * user changed through this process and, checked at most once a second, none through another.
   * htpasswd users (distribution's mode) are not in the store and are administrators.
   */
  async currentUser(name: string): Promise<CurrentUser | undefined> {
    const changes = this.store.userChanges();
    const now = this.now();
    if (now - this.externalAt >= EXTERNAL_CHECK_MS) {
      this.externalAt = now;
      const external = this.store.externalChanges();
      if (external !== this.external) this.users.clear();
      this.external = external;
    }
    if (changes !== this.usersSeen) {
      this.users.clear();
      this.usersSeen = changes;
    }
    if (this.users.has(name)) return this.users.get(name);
    const stored = await this.store.getUser(name);
    const user = stored !== undefined ? { name: stored.name, admin: stored.admin } : this.authenticator.isHtpasswdUser(name) ? { name, admin: true } : undefined;
    if (this.users.size >= 10_000) this.users.clear();
    this.users.set(name, user);
    return user;
  }

  /** Why access control is on or off, for the start-up log. */
  async mode(): Promise<'configured' | 'users' | 'open'> {
    if (this.alwaysOn) return 'configured';
    return (await this.store.hasUsers()) ? 'users' : 'open';
  }
}
