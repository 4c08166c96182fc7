/**
 * The account service alone, built from the config and the backend's account store: the access
 * policy and the AccountService. What `berth user|org|team|repo|token` need, without the token
 * service, signing keys or login throttle (jose and three large caches), so a CLI call loads and
 * builds only this; createAccessControl builds on it for the server.
 */
import type { Config } from '../config/schema.ts';
import type { MetaStore } from '../meta/store.ts';
import { AccountService } from './accounts.ts';
import { AccessPolicy } from './policy.ts';
import type { AccountStore } from './store.ts';
import { mirrorNamespaces } from '../proxy/routing.ts';

export interface AccountsDeps {
  config: Config;
  /** The backend's account store (users, organisations, teams, visibility, tokens). */
  store: AccountStore;
  /** The registry's meta store: which repositories exist. */
  meta: Pick<MetaStore, 'repositoryExists' | 'listRepositories'>;
}

export interface OpenedAccounts {
  policy: AccessPolicy;
  accounts: AccountService;
}

export function openAccounts({ config, store, meta }: AccountsDeps): OpenedAccounts {
  const reserved = mirrorNamespaces(config.proxy);
  const policy = new AccessPolicy({
    store,
    mirrorNamespaces: reserved,
    defaultVisibility: config.access.defaultvisibility,
    maxPrivateRepos: config.access.maxprivaterepos,
    repositoryExists: (name) => meta.repositoryExists(name),
    // Names sort after `ns/` exactly when they are under it (or sort later still).
    namespaceHasRepositories: async (ns) => (await meta.listRepositories({ last: `${ns}/`, n: 1 }))[0]?.startsWith(`${ns}/`) === true,
  });
  return { policy, accounts: new AccountService(store, policy, { mirrorNamespaces: reserved }) };
}
