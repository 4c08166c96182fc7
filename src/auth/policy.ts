/**
 * Who may do what on a repository. The rules, in Docker Hub's terms:
 * - admins may do everything; `library/*` and one-component names (official images) are theirs;
 * - a user owns the namespace of their name (`alice/*`);
 * - an organisation's owners own its namespace; its teams hold a role (read, write, admin) on one
 *   repository or on all of them;
 * - anyone, anonymous included, may pull a public repository; nobody pushes anonymously;
 * - a user logged in with a scoped access token gets at most that token's scopes.
 * A repository with no settings yet (pushed before access control was on) has the default visibility;
 * a name that does not exist is never public, so a denial says nothing about existence.
 */
import { AccessDeniedError } from './errors.ts';
import { isAdmin, type Principal } from './principal.ts';
import { namespaceOf, REPOSITORY_ACTIONS, type RepositoryAction, type Scope } from './scope.ts';
import type { AccountStore, OrgAccess, Role, Visibility } from './store.ts';
import { publicOnly, SEE_EVERYTHING, type AccessFilter } from './visibility.ts';

export interface PolicyOptions {
  store: AccountStore;
  /** Visibility of a new repository. */
  defaultVisibility: Visibility;
  /** The most private repositories a user's namespace may hold; 0 for no limit. */
  maxPrivateRepos: number;
  /** Whether the registry holds the repository (for repositories pushed before they had settings). */
  repositoryExists(name: string): Promise<boolean>;
  /** Whether the registry holds any repository under `namespace/`. */
  namespaceHasRepositories(namespace: string): Promise<boolean>;
  /**
   * Namespaces the mirror serves (the first component of each upstream's prefix): holding a user or
   * organisation of that name (taken before the mirror was configured) gives no rights there.
   */
  mirrorNamespaces?: readonly string[];
}

const ROLE_ACTIONS: Record<Role, readonly RepositoryAction[]> = {
  read: ['pull'],
  write: ['pull', 'push'],
  admin: ['pull', 'push', 'delete'],
};

const ALL: ReadonlySet<RepositoryAction> = new Set(REPOSITORY_ACTIONS);
const NONE: ReadonlySet<RepositoryAction> = new Set();

/** The namespace admins own: official images. */
export function isOfficialNamespace(namespace: string): boolean {
  return namespace === '' || namespace === 'library';
}

/** Whether a pattern of a token scope (`alice/app`, `alice/*`) covers a repository name. */
function scopeCovers(pattern: string, name: string): boolean {
  return pattern.endsWith('/*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

export class AccessPolicy {
  private readonly mirrored: ReadonlySet<string>;

  constructor(private readonly opts: PolicyOptions) {
    this.mirrored = new Set(opts.mirrorNamespaces ?? []);
  }

  /** Whether owning or belonging to `namespace` gives rights on its repositories (not for official or mirrored ones). */
  private ownable(namespace: string): boolean {
    return !isOfficialNamespace(namespace) && !this.mirrored.has(namespace);
  }

  /** The actions `principal` may take on repository `name`. */
  async repositoryActions(principal: Principal, name: string, orgs?: Map<string, OrgAccess | undefined>): Promise<ReadonlySet<RepositoryAction>> {
    const rights = await this.rights(principal, name, orgs);
    if (principal.kind !== 'user' || principal.restrict === undefined || rights.size === 0) return rights;
    const allowed = new Set<RepositoryAction>();
    for (const scope of principal.restrict) {
      if (scope.type !== 'repository' || !scopeCovers(scope.name, name)) continue;
      for (const a of scope.actions) if (rights.has(a)) allowed.add(a);
    }
    // What anyone may do, a token may do: its scopes narrow the user's rights, not the public's.
    if (!allowed.has('pull') && (await this.visibility(name)) === 'public') allowed.add('pull');
    return allowed;
  }

  /** Whether the principal may manage a repository's settings (visibility, descriptions): its admins. */
  async canAdminister(principal: Principal, name: string): Promise<boolean> {
    return (await this.repositoryActions(principal, name)).has('delete');
  }

  /** The requested scopes cut down to what the principal may do (the token server's answer). */
  async grant(principal: Principal, requested: readonly Scope[]): Promise<Scope[]> {
    const granted: Scope[] = [];
    for (const scope of requested) {
      if (scope.type === 'registry') {
        // Anyone may list and search: the answers only ever name what the caller may pull.
        granted.push(scope);
        continue;
      }
      const allowed = await this.repositoryActions(principal, scope.name);
      granted.push({ ...scope, actions: scope.actions.filter((a) => allowed.has(a)) });
    }
    return granted;
  }

  /**
   * Every repository the principal may pull, as a filter the catalog's and search's queries carry:
   * the rules of `rights` and `repositoryActions` below, gathered once per request.
   */
  async visibleTo(principal: Principal): Promise<AccessFilter> {
    if (isAdmin(principal)) return SEE_EVERYTHING;
    const defaultPublic = this.opts.defaultVisibility === 'public';
    if (principal.kind !== 'user') return publicOnly(defaultPublic);
    const namespaces = new Set<string>(this.ownable(principal.name) ? [principal.name] : []);
    const repositories = new Set<string>();
    for (const org of await this.opts.store.orgsOf(principal.name)) {
      if (!this.ownable(org)) continue;
      const access = await this.opts.store.orgAccess(org, principal.name);
      if (access === undefined) continue;
      if (access.owner) namespaces.add(org);
      // Every role includes pull.
      for (const { repository } of access.roles) {
        if (repository === '') namespaces.add(org);
        else repositories.add(repository);
      }
    }
    const filter = { all: false as const, defaultPublic, everyNamespace: principal.admin, namespaces: [...namespaces], repositories: [...repositories] };
    if (principal.restrict === undefined) return filter;
    const restrict = principal.restrict.filter((s) => s.type === 'repository' && s.actions.includes('pull')).map((s) => s.name);
    return { ...filter, restrict };
  }

  /**
   * Before a push into a repository with no settings yet: record it with the default visibility,
   * refusing when that would pass the namespace's private repository limit.
   */
  async claimForPush(name: string): Promise<void> {
    const { store } = this.opts;
    if ((await store.getRepository(name)) !== undefined) return;
    const namespace = namespaceOf(name);
    const limit = isOfficialNamespace(namespace) ? 0 : this.opts.maxPrivateRepos;
    // Checked and recorded in one transaction, so concurrent first pushes cannot pass the limit together.
    if ((await store.claimRepository(name, namespace, this.opts.defaultVisibility, limit)) === undefined) {
      await this.checkPrivateQuota(namespace, name);
      throw new AccessDeniedError(`${namespace} has reached its private repository limit (access.maxprivaterepos = ${limit})`, { namespace, limit });
    }
  }

  /** Throws when `namespace` may not hold one more private repository. */
  async checkPrivateQuota(namespace: string, name: string): Promise<void> {
    const max = this.opts.maxPrivateRepos;
    if (max <= 0 || isOfficialNamespace(namespace)) return;
    const used = await this.opts.store.countPrivate(namespace);
    if (used >= max) {
      throw new AccessDeniedError(
        `${namespace} already has ${used} private repositories, the most allowed (access.maxprivaterepos = ${max}); make one public or delete one to create ${name}`,
        { namespace, limit: max },
      );
    }
  }

  /**
   * Whether a namespace already holds repositories (pushed while the registry was open, or left
   * by a deleted account): only an administrator may then give it an owner.
   */
  async namespaceInUse(namespace: string): Promise<boolean> {
    return (await this.opts.namespaceHasRepositories(namespace)) || (await this.opts.store.countPrivate(namespace)) > 0;
  }

  /** The effective visibility of a repository; undefined when it does not exist. */
  async visibility(name: string): Promise<Visibility | undefined> {
    const settings = await this.opts.store.getRepository(name);
    if (settings !== undefined) return settings.visibility;
    return (await this.opts.repositoryExists(name)) ? this.opts.defaultVisibility : undefined;
  }

  private async rights(principal: Principal, name: string, orgs?: Map<string, OrgAccess | undefined>): Promise<ReadonlySet<RepositoryAction>> {
    if (principal.kind === 'system' || (principal.kind === 'user' && principal.admin)) return ALL;
    const namespace = namespaceOf(name);
    if (principal.kind === 'user' && this.ownable(namespace)) {
      if (namespace === principal.name) return ALL;
      const access = await this.orgAccess(namespace, principal.name, orgs);
      if (access?.owner) return ALL;
      if (access !== undefined) {
        const actions = new Set<RepositoryAction>();
        for (const { repository, role } of access.roles) {
          if (repository === '' || repository === name) for (const a of ROLE_ACTIONS[role]) actions.add(a);
        }
        if (!actions.has('pull') && (await this.visibility(name)) === 'public') actions.add('pull');
        return actions;
      }
    }
    return (await this.visibility(name)) === 'public' ? new Set<RepositoryAction>(['pull']) : NONE;
  }

  private async orgAccess(org: string, user: string, cache?: Map<string, OrgAccess | undefined>): Promise<OrgAccess | undefined> {
    if (cache?.has(org)) return cache.get(org);
    const access = await this.opts.store.orgAccess(org, user);
    cache?.set(org, access);
    return access;
  }
}
