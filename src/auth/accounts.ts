/**
 * Managing accounts: users, organisations, teams, repository visibility and access tokens, each
 * operation checked against the acting principal. The JSON API and the CLI both call this (the
 * CLI as SYSTEM); neither touches the store directly.
 */
import { AccessDeniedError, AccountConflictError, AccountInvalidError, AccountUnknownError } from './errors.ts';
import { hashPassword } from './passwords.ts';
import type { AccessPolicy } from './policy.ts';
import { isAdmin, type Principal } from './principal.ts';
import { formatScope, namespaceOf, parseScope, ScopeInvalidError } from './scope.ts';
import type { AccountStore, OrgMember, OrgRecord, RepositorySettings, Role, TeamRecord, TokenRecord, UserRecord, Visibility } from './store.ts';
import { hashSecret, newSecret, newTokenId, PAT_PREFIX } from './token-secrets.ts';
import { isValidName } from '../registry/reference.ts';
import { SYSTEM_ACTORS } from '../events/context.ts';

/** Names of users, organisations and teams: one lowercase path component, as in repository names. */
const ACCOUNT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Names no user or organisation may take: the official namespace and words clients or routes use ('admin' is the usual first user's). */
/** Names no user or organisation may take: paths of the API, and the actors of berth's own events (a user named berth-gc would pass for garbage collection). */
const RESERVED = new Set(['library', 'v2', 'v1', 'api', 'auth', 'root', 'system', 'anonymous', ...Object.values(SYSTEM_ACTORS)]);

export interface PublicUser {
  name: string;
  admin: boolean;
  createdAt: string;
  orgs?: string[];
}

export interface CreatedToken {
  token: TokenRecord;
  /** Shown once: it is not stored. */
  secret: string;
}

export function checkAccountName(kind: string, name: string): void {
  if (name.length < 2 || name.length > 64 || !ACCOUNT_NAME.test(name)) {
    throw new AccountInvalidError(`${kind} name must be 2-64 lowercase letters, digits and single . _ - between them`, { name });
  }
}

export interface AccountServiceOptions {
  /**
   * Names no user or organisation may take because the mirror serves the repositories under them:
   * the first component of each upstream's prefix (`ghcr.io` for `ghcr.io/`). An owner of such a
   * namespace would hold rights on every mirrored name in it. An empty prefix (`proxy.remoteurl`)
   * reserves nothing: every name is mirrored there, and users' and organisations' namespaces are
   * mirrored names they hold access rights on (a mirrored name serves only what its upstream has there).
   */
  mirrorNamespaces?: readonly string[];
}

/** A user or organisation whose name the mirror now reserves (taken before it was configured). */
export interface ReservedNameInUse {
  name: string;
  kind: 'user' | 'org';
}

export class AccountService {
  private readonly mirrorNamespaces: ReadonlySet<string>;

  constructor(
    readonly store: AccountStore,
    readonly policy: AccessPolicy,
    opts: AccountServiceOptions = {},
  ) {
    this.mirrorNamespaces = new Set(opts.mirrorNamespaces);
  }

  /** Refuses a name no user or organisation may take. */
  private checkNameFree(kind: string, name: string): void {
    checkAccountName(kind, name);
    if (RESERVED.has(name)) throw new AccountInvalidError(`the name ${name} is reserved`, { name });
    if (this.mirrorNamespaces.has(name)) {
      throw new AccountInvalidError(`the name ${name} is reserved: the repositories under ${name}/ are mirrored from an upstream (proxy.upstreams)`, { name });
    }
  }

  /** Users and organisations holding a name the mirror reserves (created before it was configured): to be renamed or removed. */
  async reservedNamesInUse(): Promise<ReservedNameInUse[]> {
    const found: ReservedNameInUse[] = [];
    for (const name of this.mirrorNamespaces) {
      const kind = await this.store.namespaceKind(name);
      if (kind !== undefined) found.push({ name, kind });
    }
    return found;
  }

  /**
   * Changing accounts, organisations or tokens needs a password login (or the CLI): an access
   * token, or a bearer token (which may come from one), only ever reads here, so a leaked robot
   * token cannot mint longer-lived tokens or change its owner's password.
   */
  private requirePassword(actor: Principal): void {
    if (actor.kind === 'system') return;
    if (actor.kind === 'user' && (actor.via === 'password' || actor.via === 'session' || actor.via === 'htpasswd')) return;
    throw new AccessDeniedError('changing accounts needs a password login, not an access or bearer token');
  }

  private requireAdmin(actor: Principal): void {
    if (!isAdmin(actor)) throw new AccessDeniedError('only an administrator may do this');
  }

  private requireSelfOrAdmin(actor: Principal, user: string): void {
    if (isAdmin(actor)) return;
    if (actor.kind === 'user' && actor.name === user && actor.restrict === undefined) return;
    throw new AccessDeniedError(`only ${user} or an administrator may do this`);
  }

  private async requireOrgOwner(actor: Principal, org: string): Promise<void> {
    if ((await this.store.getOrg(org)) === undefined) throw new AccountUnknownError(`no organisation ${org}`, { org });
    if (isAdmin(actor)) return;
    const access = actor.kind === 'user' && actor.restrict === undefined ? await this.store.orgAccess(org, actor.name) : undefined;
    if (!access?.owner) throw new AccessDeniedError(`only an owner of ${org} may do this`);
  }

  private async requireUser(name: string): Promise<UserRecord> {
    const user = await this.store.getUser(name);
    if (user === undefined) throw new AccountUnknownError(`no user ${name}`, { user: name });
    return user;
  }

  // Users

  async createUser(actor: Principal, name: string, password: string | undefined, admin = false): Promise<PublicUser> {
    this.requirePassword(actor);
    this.requireAdmin(actor);
    this.checkNameFree('user', name);
    const passwordHash = password === undefined ? null : await hashPassword(password);
    return toPublic(await this.store.createUser({ name, passwordHash, admin }));
  }

  async getUser(actor: Principal, name: string): Promise<PublicUser> {
    this.requireSelfOrAdmin(actor, name);
    const user = await this.requireUser(name);
    return { ...toPublic(user), orgs: await this.store.orgsOf(name) };
  }

  async listUsers(actor: Principal): Promise<PublicUser[]> {
    this.requireAdmin(actor);
    return (await this.store.listUsers()).map(toPublic);
  }

  /** Change a password; the user's `docker login` sessions (refresh tokens) end with it. */
  async setPassword(actor: Principal, name: string, password: string): Promise<void> {
    this.requirePassword(actor);
    this.requireSelfOrAdmin(actor, name);
    await this.requireUser(name);
    await this.store.setPassword(name, await hashPassword(password));
    // A new password ends every login kept elsewhere: docker's refresh tokens and web sessions.
    await this.store.revokeTokens(name, 'refresh');
    await this.store.revokeTokens(name, 'session');
  }

  async setAdmin(actor: Principal, name: string, admin: boolean): Promise<void> {
    this.requirePassword(actor);
    this.requireAdmin(actor);
    if (!(await this.store.setAdmin(name, admin))) throw new AccountUnknownError(`no user ${name}`, { user: name });
  }

  async deleteUser(actor: Principal, name: string): Promise<void> {
    this.requirePassword(actor);
    this.requireAdmin(actor);
    if (!(await this.store.deleteUser(name))) throw new AccountUnknownError(`no user ${name}`, { user: name });
  }

  // Organisations and teams

  async createOrg(actor: Principal, name: string, owner?: string): Promise<OrgRecord> {
    this.requirePassword(actor);
    this.checkNameFree('organisation', name);
    const by = owner ?? (actor.kind === 'user' ? actor.name : undefined);
    if (by === undefined) throw new AccountInvalidError('an organisation needs an owner');
    if (by !== (actor.kind === 'user' ? actor.name : undefined)) this.requireAdmin(actor);
    if (actor.kind === 'user' && actor.restrict !== undefined) throw new AccessDeniedError('an access token cannot create organisations');
    await this.requireUser(by);
    // A namespace holding repositories gets an owner from an administrator only. To anyone else it
    // answers as a taken name does, word for word: a different answer would tell private namespaces apart.
    if (!isAdmin(actor) && (await this.policy.namespaceInUse(name))) throw nameTaken(name);
    return this.store.createOrg(name, by);
  }

  async getOrg(actor: Principal, name: string): Promise<{ org: OrgRecord; members: OrgMember[]; teams: TeamRecord[] }> {
    const org = await this.store.getOrg(name);
    // A scoped access token names repositories, not memberships: it reads no organisation.
    const member = actor.kind === 'user' && actor.restrict === undefined && (await this.store.orgAccess(name, actor.name)) !== undefined;
    if (org === undefined || !(member || isAdmin(actor))) throw new AccountUnknownError(`no organisation ${name}`, { org: name });
    return { org, members: await this.store.listOrgMembers(name), teams: await this.store.listTeams(name) };
  }

  async listOrgs(actor: Principal): Promise<OrgRecord[]> {
    const all = await this.store.listOrgs();
    if (isAdmin(actor)) return all;
    const mine = new Set(actor.kind === 'user' && actor.restrict === undefined ? await this.store.orgsOf(actor.name) : []);
    return all.filter((o) => mine.has(o.name));
  }

  async deleteOrg(actor: Principal, name: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, name);
    await this.store.deleteOrg(name);
  }

  async setOrgMember(actor: Principal, org: string, user: string, owner: boolean): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    await this.requireUser(user);
    if (!owner) await this.keepAnOwner(org, user);
    await this.store.setOrgMember(org, user, owner);
  }

  async removeOrgMember(actor: Principal, org: string, user: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    await this.keepAnOwner(org, user);
    if (!(await this.store.removeOrgMember(org, user))) throw new AccountUnknownError(`${user} is not a member of ${org}`);
  }

  /** An organisation always keeps an owner: its last one is neither removed nor made a plain member. */
  private async keepAnOwner(org: string, user: string): Promise<void> {
    const owners = (await this.store.listOrgMembers(org)).filter((m) => m.owner);
    if (owners.length === 1 && owners[0]?.user === user) throw new AccountInvalidError(`${user} is the last owner of ${org}`);
  }

  async createTeam(actor: Principal, org: string, team: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    checkAccountName('team', team);
    await this.store.createTeam(org, team);
  }

  async deleteTeam(actor: Principal, org: string, team: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    if (!(await this.store.deleteTeam(org, team))) throw new AccountUnknownError(`no team ${org}/${team}`);
  }

  async addTeamMember(actor: Principal, org: string, team: string, user: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    await this.requireUser(user);
    if (!(await this.store.addTeamMember(org, team, user))) throw new AccountUnknownError(`no team ${org}/${team}`);
  }

  async removeTeamMember(actor: Principal, org: string, team: string, user: string): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    if (!(await this.store.removeTeamMember(org, team, user))) throw new AccountUnknownError(`${user} is not in team ${org}/${team}`);
  }

  /** Grant a team a role on one repository of the organisation (`acme/app`), or on all (''); role null revokes. */
  async setTeamPermission(actor: Principal, org: string, team: string, repository: string, role: Role | null): Promise<void> {
    this.requirePassword(actor);
    await this.requireOrgOwner(actor, org);
    if (repository !== '' && (!isValidName(repository) || namespaceOf(repository) !== org)) {
      throw new AccountInvalidError(`a team of ${org} can only be given repositories under ${org}/`, { repository });
    }
    if (!(await this.store.setTeamPermission(org, team, repository, role))) throw new AccountUnknownError(`no team ${org}/${team}`);
  }

  // Repositories

  async repository(actor: Principal, name: string): Promise<RepositorySettings & { actions: string[] }> {
    const actions = await this.policy.repositoryActions(actor, name);
    const visibility = await this.policy.visibility(name);
    if (!actions.has('pull') || visibility === undefined) throw new AccountUnknownError(`no repository ${name}`, { name });
    const settings = (await this.store.getRepository(name)) ?? { name, namespace: namespaceOf(name), visibility, createdAt: 0, updatedAt: 0 };
    return { ...settings, actions: [...actions] };
  }

  async setVisibility(actor: Principal, name: string, visibility: Visibility): Promise<RepositorySettings> {
    if (!isValidName(name)) throw new AccountInvalidError(`invalid repository name ${name}`);
    if (!(await this.policy.canAdminister(actor, name))) throw new AccessDeniedError(`only an administrator of ${name} may change its visibility`);
    const namespace = namespaceOf(name);
    const current = await this.policy.visibility(name);
    if (visibility === 'private' && current !== 'private') await this.policy.checkPrivateQuota(namespace, name);
    return this.store.setVisibility(name, namespace, visibility);
  }

  // Access tokens

  async createToken(actor: Principal, user: string, name: string, scopes: readonly string[] | null, expiresAt: number | null): Promise<CreatedToken> {
    this.requirePassword(actor);
    this.requireSelfOrAdmin(actor, user);
    await this.requireUser(user);
    if (name.trim() === '' || name.length > 100) throw new AccountInvalidError('a token needs a name of at most 100 characters');
    if (expiresAt !== null && expiresAt <= Date.now()) throw new AccountInvalidError('expiry must be in the future');
    let normalized: string[] | null = null;
    if (scopes !== null) {
      try {
        normalized = scopes.map((s) => formatScope(parseScope(s, true)));
      } catch (err) {
        if (err instanceof ScopeInvalidError) throw new AccountInvalidError(err.message);
        throw err;
      }
    }
    const secret = newSecret(PAT_PREFIX);
    const token = await this.store.createToken({ id: newTokenId(), user, kind: 'pat', name, secretHash: hashSecret(secret), scopes: normalized, expiresAt });
    return { token, secret };
  }

  /** A user's tokens; web sessions that have expired are over and not listed (Sessions.start forgets them). */
  async listTokens(actor: Principal, user: string): Promise<TokenRecord[]> {
    this.requireSelfOrAdmin(actor, user);
    const now = Date.now();
    return (await this.store.listTokens(user)).filter((t) => t.kind !== 'session' || t.expiresAt === null || t.expiresAt > now);
  }

  /** Revoking is a change (it ends web sessions too): a password login or a session, never a token. */
  async revokeToken(actor: Principal, user: string, id: string): Promise<void> {
    this.requirePassword(actor);
    this.requireSelfOrAdmin(actor, user);
    const owned = (await this.store.listTokens(user)).some((t) => t.id === id);
    if (!owned || !(await this.store.revokeToken(id))) throw new AccountUnknownError(`no token ${id} of ${user}`, { id });
  }
}

/** The answer for a name that is taken: the store's own (AccountConflictError) for a user's or organisation's. */
function nameTaken(name: string): AccountConflictError {
  return new AccountConflictError(`the name ${JSON.stringify(name)} is taken`, { name });
}

function toPublic(user: UserRecord): PublicUser {
  return { name: user.name, admin: user.admin, createdAt: new Date(user.createdAt).toISOString() };
}
