/**
 * The account store on PostgreSQL, the twin of sqlite/account-store.ts, for many nodes sharing one
 * database. externalChanges() counts the NOTIFYs of schema/accounts.ts's triggers, so a node's
 * access control drops what it cached when any node (this one included) commits a change. A
 * namespace is claimed by its primary key, so the same name created on two nodes at once ends
 * with one winner; a private repository limit is checked and kept under an advisory lock per
 * namespace. Organisations and teams are in account-teams.ts.
 */
import type {
  AccountStore,
  NewToken,
  OrgAccess,
  OrgMember,
  OrgRecord,
  RepositorySettings,
  Role,
  TeamRecord,
  TokenKind,
  TokenRecord,
  UserRecord,
  Visibility,
} from '../../auth/store.ts';
import { AccountConflictError } from '../../auth/errors.ts';
import { isUniqueViolation, type PgDatabase, type Queryable } from './database.ts';
import { PgTeams } from './account-teams.ts';
import {
  SETTINGS_COLUMNS,
  TOKEN_COLUMNS,
  USER_COLUMNS,
  newTokenRecord,
  toSettings,
  toToken,
  toUser,
  type SettingsRow,
  type TokenRow,
  type UserRow,
} from '../rows/accounts.ts';

/** The channel schema/accounts.ts's triggers notify. */
export const ACCOUNTS_CHANNEL = 'berth_accounts';

/**
 * The advisory lock a private repository claim takes, per namespace: the two-key form (its own
 * lock space, apart from single-key locks such as the migrations'), keyed by this text and the
 * namespace's hash. Two namespaces sharing a hash only wait on each other, never miscount.
 */
const PRIVATE_CLAIM_LOCK = 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))';
const PRIVATE_CLAIM_KEY = 'berth.private_repositories';

export class PgAccountStore implements AccountStore {
  /** Users created, deleted or changed through this store (this node's own writes). */
  private userChangeCount = 0;
  /** Notifications heard on ACCOUNTS_CHANNEL, from every node (reconnects count too). */
  private notified = 0;
  private unlisten: () => void = () => undefined;
  private readonly teams: PgTeams;

  private constructor(private readonly db: PgDatabase) {
    this.teams = new PgTeams(db);
  }

  /** A store listening for account changes: externalChanges() moves from the moment this resolves. */
  static async open(db: PgDatabase): Promise<PgAccountStore> {
    const store = new PgAccountStore(db);
    store.unlisten = await db.listen(ACCOUNTS_CHANNEL, () => {
      store.notified++;
    });
    return store;
  }

  /** Stop listening (the database itself is closed by its owner). */
  close(): void {
    this.unlisten();
  }

  userChanges(): number {
    return this.userChangeCount;
  }

  /** Moves whenever a node commits a change to the account tables (or the listener reconnected, when some may be missed). */
  externalChanges(): number {
    return this.notified;
  }

  private async run(sql: string, params: readonly unknown[], on: Queryable = this.db): Promise<number> {
    return (await on.query(sql, params)).rowCount ?? 0;
  }

  private async claimNamespace(tx: Queryable, name: string, kind: 'user' | 'org', now: number): Promise<void> {
    try {
      await tx.query('INSERT INTO namespaces (name, kind, created_at) VALUES ($1, $2, $3)', [name, kind, now]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AccountConflictError(`the name ${JSON.stringify(name)} is taken`, { name });
      throw err;
    }
  }

  async hasUsers(): Promise<boolean> {
    return (await this.db.one('SELECT 1 AS x FROM users LIMIT 1')) !== undefined;
  }

  async namespaceKind(name: string): Promise<'user' | 'org' | undefined> {
    return (await this.db.one<{ kind: 'user' | 'org' }>('SELECT kind FROM namespaces WHERE name = $1', [name]))?.kind;
  }

  async createUser(user: Omit<UserRecord, 'createdAt'>): Promise<UserRecord> {
    const now = Date.now();
    this.userChangeCount++;
    await this.db.transaction(async (tx) => {
      await this.claimNamespace(tx, user.name, 'user', now);
      await tx.query('INSERT INTO users (name, password_hash, admin, created_at) VALUES ($1, $2, $3, $4)', [user.name, user.passwordHash, user.admin, now]);
    });
    return { ...user, createdAt: now };
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = await this.db.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [name]);
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.db.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`)).map(toUser);
  }

  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    return (await this.run('UPDATE users SET password_hash = $1 WHERE name = $2', [passwordHash, name])) > 0;
  }

  async setAdmin(name: string, admin: boolean): Promise<boolean> {
    this.userChangeCount++;
    return (await this.run('UPDATE users SET admin = $1 WHERE name = $2', [admin, name])) > 0;
  }

  async deleteUser(name: string): Promise<boolean> {
    this.userChangeCount++;
    return (await this.run("DELETE FROM namespaces WHERE name = $1 AND kind = 'user'", [name])) > 0;
  }

  async createOrg(name: string, owner: string): Promise<OrgRecord> {
    const now = Date.now();
    await this.db.transaction(async (tx) => {
      await this.claimNamespace(tx, name, 'org', now);
      await tx.query('INSERT INTO org_members (org, user_name, owner) VALUES ($1, $2, true)', [name, owner]);
    });
    return { name, createdAt: now };
  }

  getOrg(name: string): Promise<OrgRecord | undefined> {
    return this.teams.getOrg(name);
  }

  listOrgs(): Promise<OrgRecord[]> {
    return this.teams.listOrgs();
  }

  async deleteOrg(name: string): Promise<boolean> {
    return (await this.run("DELETE FROM namespaces WHERE name = $1 AND kind = 'org'", [name])) > 0;
  }

  setOrgMember(org: string, user: string, owner: boolean): Promise<void> {
    return this.teams.setOrgMember(org, user, owner);
  }

  removeOrgMember(org: string, user: string): Promise<boolean> {
    return this.teams.removeOrgMember(org, user);
  }

  listOrgMembers(org: string): Promise<OrgMember[]> {
    return this.teams.listOrgMembers(org);
  }

  orgsOf(user: string): Promise<string[]> {
    return this.teams.orgsOf(user);
  }

  orgAccess(org: string, user: string): Promise<OrgAccess | undefined> {
    return this.teams.orgAccess(org, user);
  }

  createTeam(org: string, name: string): Promise<void> {
    return this.teams.createTeam(org, name);
  }

  deleteTeam(org: string, name: string): Promise<boolean> {
    return this.teams.deleteTeam(org, name);
  }

  listTeams(org: string): Promise<TeamRecord[]> {
    return this.teams.listTeams(org);
  }

  addTeamMember(org: string, team: string, user: string): Promise<boolean> {
    return this.teams.addTeamMember(org, team, user);
  }

  removeTeamMember(org: string, team: string, user: string): Promise<boolean> {
    return this.teams.removeTeamMember(org, team, user);
  }

  setTeamPermission(org: string, team: string, repository: string, role: Role | null): Promise<boolean> {
    return this.teams.setTeamPermission(org, team, repository, role);
  }

  getRepository(name: string): Promise<RepositorySettings | undefined> {
    return this.settings(name);
  }

  private async settings(name: string, on: Queryable = this.db): Promise<RepositorySettings | undefined> {
    const row = await this.db.one<SettingsRow>(`SELECT ${SETTINGS_COLUMNS} FROM repository_settings WHERE name = $1`, [name], on);
    return row && toSettings(row);
  }

  async claimRepository(name: string, namespace: string, visibility: Visibility, privateLimit = 0): Promise<RepositorySettings | undefined> {
    const existing = await this.settings(name);
    if (existing !== undefined) return existing;
    if (visibility !== 'private' || privateLimit <= 0) return this.writeSettings(name, namespace, visibility, 'DO NOTHING');
    return this.db.transaction(async (tx) => {
      // every limited claim in the namespace waits here, so the count below holds until COMMIT
      await tx.query(PRIVATE_CLAIM_LOCK, [PRIVATE_CLAIM_KEY, namespace]);
      const claimed = await this.settings(name, tx);
      if (claimed !== undefined) return claimed;
      if ((await this.privateCount(namespace, tx)) >= privateLimit) return undefined;
      return this.writeSettings(name, namespace, visibility, 'DO NOTHING', tx);
    });
  }

  /** Insert a repository's settings; on an existing row, `onConflict` decides (keep it, or take the new visibility). */
  private async writeSettings(name: string, namespace: string, visibility: Visibility, onConflict: string, on: Queryable = this.db): Promise<RepositorySettings> {
    const now = Date.now();
    await on.query(
      `INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) ${onConflict}`,
      [name, namespace, visibility, now, now],
    );
    // read back rather than RETURNING: with DO NOTHING, the row another node inserted first
    return (await this.settings(name, on)) as RepositorySettings;
  }

  async setVisibility(name: string, namespace: string, visibility: Visibility): Promise<RepositorySettings> {
    return this.writeSettings(name, namespace, visibility, 'DO UPDATE SET visibility = excluded.visibility, updated_at = excluded.updated_at');
  }

  private async privateCount(namespace: string, on: Queryable = this.db): Promise<number> {
    const row = await this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM repository_settings WHERE namespace = $1 AND visibility = 'private'", [namespace], on);
    return row?.n ?? 0;
  }

  countPrivate(namespace: string): Promise<number> {
    return this.privateCount(namespace);
  }

  async createToken(token: NewToken): Promise<TokenRecord> {
    const now = Date.now();
    await this.db.query(
      'INSERT INTO access_tokens (id, user_name, kind, name, secret_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [token.id, token.user, token.kind, token.name, token.secretHash, token.scopes === null ? null : JSON.stringify(token.scopes), now, token.expiresAt],
    );
    return newTokenRecord(token, now);
  }

  async findToken(secretHash: string, now: number): Promise<TokenRecord | undefined> {
    const row = await this.db.one<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE secret_hash = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [secretHash, now],
    );
    return row && toToken(row);
  }

  async listTokens(user: string): Promise<TokenRecord[]> {
    return (await this.db.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE user_name = $1 ORDER BY created_at, id`, [user])).map(toToken);
  }

  async revokeToken(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM access_tokens WHERE id = $1', [id])) > 0;
  }

  revokeTokens(user: string, kind: TokenKind): Promise<number> {
    return this.run('DELETE FROM access_tokens WHERE user_name = $1 AND kind = $2', [user, kind]);
  }

  /** last_used_at only: the schema's trigger leaves this out of NOTIFY (it runs on authenticated requests). */
  async touchToken(id: string, now: number): Promise<void> {
    await this.db.query('UPDATE access_tokens SET last_used_at = $1 WHERE id = $2', [now, id]);
  }
}
