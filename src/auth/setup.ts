/**
 * Building access control from the config: the accounts (accounts-setup.ts), the signing keys
 * (files beside the SQLite database, or the PostgreSQL database's), the token service and the
 * authenticator.
 * Used by the server (main.ts) and by the CLI, which must agree on where everything lives.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { AccessControl } from './access-control.ts';
import { openAccounts, type AccountsDeps } from './accounts-setup.ts';
import { Authenticator } from './authenticator.ts';
import { HtpasswdFile } from './htpasswd.ts';
import { TokenService } from './jwt.ts';
import { KeyFiles } from './key-files.ts';
import { SigningKeys, type SigningKeySource } from './keys.ts';
import type { FailureCounts } from './failure-store.ts';
import { LoginThrottle } from './throttle.ts';
import { Sessions } from './sessions.ts';

/** Where the token signing keys live: auth.token.keydirectory, else `auth/keys` beside the SQLite database; none in memory. */
export function keyDirectory(config: Config): string | undefined {
  const configured = config.auth?.token?.keydirectory;
  if (configured !== undefined) return path.resolve(configured);
  const meta = config.meta.sqlite.path;
  return meta === ':memory:' ? undefined : path.join(path.dirname(path.resolve(meta)), 'auth', 'keys');
}

/**
 * The signing keys' source: auth.token.keydirectory when configured; else the database's own
 * (`backendKeys`: PostgreSQL keeps them in a table, so every node shares them); else the files
 * beside the SQLite database; undefined (memory only) for an in-memory registry.
 */
export function signingKeySource(config: Config, backendKeys?: SigningKeySource): SigningKeySource | undefined {
  if (config.auth?.token?.keydirectory === undefined && backendKeys !== undefined) return backendKeys;
  const dir = keyDirectory(config);
  return dir === undefined ? undefined : new KeyFiles(dir);
}

export interface AccessControlDeps extends AccountsDeps {
  log?: Logger;
  /** Told of every refused credential or token. */
  onFailure?: () => void;
  /** The backend's own place for signing keys (Backend.keys), if it has one. */
  keys?: SigningKeySource;
  /** The backend's shared login failure counts (Backend.loginFailures), if it has them; else each process counts alone. */
  loginFailures?: FailureCounts;
}

export async function createAccessControl({ config, store, meta, log, onFailure, keys: backendKeys, loginFailures }: AccessControlDeps): Promise<AccessControl> {
  const { policy, accounts } = openAccounts({ config, store, meta });
  const auth = config.auth;
  const htpasswd = auth?.htpasswd && new HtpasswdFile(path.resolve(auth.htpasswd.path), log);
  const token = auth?.token ?? { service: 'berth', issuer: 'berth', expiration: 300_000, realm: undefined, keydirectory: undefined };
  const keys = await SigningKeys.open(signingKeySource(config, backendKeys), (key, err) => log?.error({ key, err: err.message }, 'signing key unreadable, skipped'));
  const tokens = new TokenService(keys, { issuer: token.issuer, service: token.service, expiresInSec: Math.max(1, Math.round(token.expiration / 1000)) });
  const authenticator = new Authenticator({ store, throttle: new LoginThrottle({}, undefined, loginFailures), htpasswd, log, onFailure });
  // distribution's htpasswd mode challenges with Basic; everything else with Docker's Bearer token flow.
  const basic = auth?.htpasswd !== undefined && auth.token === undefined;
  if (log !== undefined) {
    for (const { name, kind } of await accounts.reservedNamesInUse()) {
      const what = kind === 'org' ? 'organisation' : 'user';
      log.warn({ [kind]: name }, `the ${what} ${name} holds a name the mirror reserves: it has no rights on the mirrored repositories under ${name}/ (only administrators do). Delete it, or change that upstream's prefix`);
    }
  }
  return new AccessControl({
    store,
    policy,
    authenticator,
    tokens,
    keys,
    accounts,
    sessions: new Sessions(store, config.ui.sessionttl),
    challenge: basic ? { scheme: 'basic', realm: auth.htpasswd?.realm, service: token.service } : { scheme: 'bearer', realm: token.realm, service: token.service },
    onFailure,
    alwaysOn: auth?.htpasswd !== undefined || auth?.token !== undefined,
  });
}
