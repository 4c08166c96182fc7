/**
 * The account store: users, organisations, teams, repository visibility and access tokens.
 * Kept apart from the registry's MetaStore on purpose (tokens are not registry metadata), but
 * implemented in the same database (src/meta/sqlite/account-store.ts) so that one backup holds
 * everything. Users and organisations share one namespace: `alice` is either, never both.
 */

export type Visibility = 'public' | 'private';
export const VISIBILITIES: readonly Visibility[] = ['public', 'private'];

/** A team's role on a repository (or a whole organisation): read = pull, write = + push, admin = + delete and settings. */
export type Role = 'read' | 'write' | 'admin';
export const ROLES: readonly Role[] = ['read', 'write', 'admin'];

export interface UserRecord {
  name: string;
  /** argon2id PHC string; null for a user who can only log in with tokens. */
  passwordHash: string | null;
  admin: boolean;
  createdAt: number;
}

export interface OrgRecord {
  name: string;
  createdAt: number;
}

export interface OrgMember {
  user: string;
  owner: boolean;
}

export interface TeamRecord {
  org: string;
  name: string;
  members: string[];
  /** Repository (full name) or '' for the whole organisation, with the role there. */
  permissions: { repository: string; role: Role }[];
}

export interface RepositorySettings {
  name: string;
  namespace: string;
  visibility: Visibility;
  createdAt: number;
  updatedAt: number;
}

/** `pat`: a personal access / robot token; `refresh`: the offline token `docker login` keeps; `session`: a web UI sign-in. */
export type TokenKind = 'pat' | 'refresh' | 'session';

export interface TokenRecord {
  id: string;
  user: string;
  kind: TokenKind;
  name: string;
  /** The scopes a PAT is limited to (`repository:alice/app:pull`); null for no limit beyond the user's rights. */
  scopes: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export interface NewToken {
  id: string;
  user: string;
  kind: TokenKind;
  name: string;
  /** SHA-256 (hex) of the secret: secrets are high-entropy, so a fast hash is enough and makes lookup by secret possible. */
  secretHash: string;
  scopes: string[] | null;
  expiresAt: number | null;
}

/** What a user's memberships give them in one organisation: owner, and team roles by repository ('' = all). */
export interface OrgAccess {
  owner: boolean;
  roles: { repository: string; role: Role }[];
}

export interface AccountStore {
  /** Whether any user exists (access control switches on with the first). */
  hasUsers(): Promise<boolean>;
  /** How many times users were created, deleted or changed through this store (free to read). */
  userChanges(): number;
  /** A value that moves when another process (the CLI) commits changes to the store; one cheap query. */
  externalChanges(): number;
  /** Kind of a namespace, or undefined when nobody holds the name. */
  namespaceKind(name: string): Promise<'user' | 'org' | undefined>;

  createUser(user: Omit<UserRecord, 'createdAt'>): Promise<UserRecord>;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Sets the hash; returns false when the user does not exist. */
  setPassword(name: string, passwordHash: string): Promise<boolean>;
  setAdmin(name: string, admin: boolean): Promise<boolean>;
  deleteUser(name: string): Promise<boolean>;

  /** Create an organisation with its first owner. */
  createOrg(name: string, owner: string): Promise<OrgRecord>;
  getOrg(name: string): Promise<OrgRecord | undefined>;
  listOrgs(): Promise<OrgRecord[]>;
  deleteOrg(name: string): Promise<boolean>;
  setOrgMember(org: string, user: string, owner: boolean): Promise<void>;
  removeOrgMember(org: string, user: string): Promise<boolean>;
  listOrgMembers(org: string): Promise<OrgMember[]>;
  /** Organisations a user belongs to. */
  orgsOf(user: string): Promise<string[]>;
  orgAccess(org: string, user: string): Promise<OrgAccess | undefined>;

  createTeam(org: string, name: string): Promise<void>;
  deleteTeam(org: string, name: string): Promise<boolean>;
  listTeams(org: string): Promise<TeamRecord[]>;
  /** Adds a user to a team (making them an organisation member); false when the team does not exist. */
  addTeamMember(org: string, team: string, user: string): Promise<boolean>;
  removeTeamMember(org: string, team: string, user: string): Promise<boolean>;
  /** Grants (or with role null, removes) a team's role on a repository of the organisation, '' for all of them. */
  setTeamPermission(org: string, team: string, repository: string, role: Role | null): Promise<boolean>;

  getRepository(name: string): Promise<RepositorySettings | undefined>;
  /**
   * Insert the settings of a repository if it has none; returns what is recorded (old or new).
   * With `privateLimit` > 0, a new private repository is only recorded while its namespace holds
   * fewer private ones (checked and inserted atomically); undefined when the limit is reached.
   */
  claimRepository(name: string, namespace: string, visibility: Visibility, privateLimit?: number): Promise<RepositorySettings | undefined>;
  setVisibility(name: string, namespace: string, visibility: Visibility): Promise<RepositorySettings>;
  countPrivate(namespace: string): Promise<number>;

  createToken(token: NewToken): Promise<TokenRecord>;
  /** A live token by the hash of its secret (not revoked, not expired at `now`). */
  findToken(secretHash: string, now: number): Promise<TokenRecord | undefined>;
  listTokens(user: string): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<boolean>;
  /** Revoke every token of a kind a user holds (their logins, on a password change). */
  revokeTokens(user: string, kind: TokenKind): Promise<number>;
  touchToken(id: string, now: number): Promise<void>;
}
