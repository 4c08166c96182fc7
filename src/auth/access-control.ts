/**
 * Access control, assembled: whether it is on, how callers authenticate, what they may do, and
 * the token service. It is on when the config has an `auth` section or as soon as the first user
 * exists (also one created by the CLI while the server runs: the check is repeated every second).
 */
import type { AccountService } from './accounts.ts';
import type { Authenticator } from './authenticator.ts';
import type { TokenService } from './jwt.ts';
import type { SigningKeys } from './keys.ts';
import type { AccessPolicy } from './policy.ts';
import type { AccountStore } from './store.ts';
import type { Sessions } from './sessions.ts';

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
  private on = false;
  private checkedAt = 0;

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
  }

  /** Whether requests must be authorised; cheap on the hot path (answered from memory, refreshed once a second). */
  async enabled(): Promise<boolean> {
    if (this.alwaysOn || this.on) return true;
    const now = Date.now();
    if (now - this.checkedAt < 1000) return false;
    this.checkedAt = now;
    this.on = await this.store.hasUsers();
    return this.on;
  }

  /** Why access control is on or off, for the start-up log. */
  async mode(): Promise<'configured' | 'users' | 'open'> {
    if (this.alwaysOn) return 'configured';
    return (await this.store.hasUsers()) ? 'users' : 'open';
  }
}
