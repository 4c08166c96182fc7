/**
 * The account store on SQLite, in the meta store's database (migration 4). Every write is a
 * FULL-synchronous transaction: a user or token acknowledged is never lost.
 */
import type Database from 'better-sqlite3';
import type {
  AccountStore,
  OrgAccess,
  OrgMember,
  OrgRecord,
  RepositorySettings,
  Role,
  TeamRecord,
  TokenKind,
  TokenRecord,
  NewToken,
  UserRecord,
  Visibility,
} from '../../auth/store.ts';
import { AccountConflictError } from '../../auth/errors.ts';
import { PreparedStatements } from './prepared.ts';
import {
  ORG_COLUMNS,
  SETTINGS_COLUMNS,
  TOKEN_COLUMNS,
  USER_COLUMNS,
  newTokenRecord,
  toMember,
  toOrg,
  toSettings,
  toToken,
  toUser,
  type MemberRow,
  type OrgRow,
  type SettingsRow,
  type TokenRow,
  type UserRow,
} from '../rows/accounts.ts';

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;
}

export class SqliteAccountStore implements AccountStore {
  private readonly statements: PreparedStatements;
  /** Users created, deleted or changed through this store (this process's own writes). */
  private userChangeCount = 0;

  constructor(private readonly db: Database.Database) {
    this.statements = new PreparedStatements(db);
  }

  userChanges(): number {
    return this.userChangeCount;
  }

  /** SQLite's data_version: it moves whenever another connection (the CLI, another process) commits. */
  externalChanges(): number {
    return this.prepared('PRAGMA data_version').pluck().get() as number;
  }

  private prepared(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  private one<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.prepared(sql).get(...params) as T | undefined;
  }

  private all<T>(sql: string, ...params: unknown[]): T[] {
    return this.prepared(sql).all(...params) as T[];
  }

  private run(sql: string, ...params: unknown[]): number {
    return this.prepared(sql).run(...params).changes;
  }

  private claimNamespace(name: string, kind: 'user' | 'org', now: number): void {
    try {
      this.run('INSERT INTO namespaces (name, kind, created_at) VALUES (?, ?, ?)', name, kind, now);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AccountConflictError(`the name ${JSON.stringify(name)} is taken`, { name });
      throw err;
    }
  }

  private teamId(org: string, team: string): number | undefined {
    return this.one<{ id: number }>('SELECT id FROM teams WHERE org = ? AND name = ?', org, team)?.id;
  }

  async hasUsers(): Promise<boolean> {
    return this.one('SELECT 1 AS x FROM users LIMIT 1') !== undefined;
  }

  async namespaceKind(name: string): Promise<'user' | 'org' | undefined> {
    return this.one<{ kind: 'user' | 'org' }>('SELECT kind FROM namespaces WHERE name = ?', name)?.kind;
  }

  async createUser(user: Omit<UserRecord, 'createdAt'>): Promise<UserRecord> {
    const now = Date.now();
    this.userChangeCount++;
    this.db.transaction(() => {
      this.claimNamespace(user.name, 'user', now);
      this.run('INSERT INTO users (name, password_hash, admin, created_at) VALUES (?, ?, ?, ?)', user.name, user.passwordHash, user.admin ? 1 : 0, now);
    })();
    return { ...user, createdAt: now };
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = this.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`, name);
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.all<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).map(toUser);
  }

  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    return this.run('UPDATE users SET password_hash = ? WHERE name = ?', passwordHash, name) > 0;
  }

  async setAdmin(name: string, admin: boolean): Promise<boolean> {
    this.userChangeCount++;
    return this.run('UPDATE users SET admin = ? WHERE name = ?', admin ? 1 : 0, name) > 0;
  }

  async deleteUser(name: string): Promise<boolean> {
    this.userChangeCount++;
    return this.run("DELETE FROM namespaces WHERE name = ? AND kind = 'user'", name) > 0;
  }

  async createOrg(name: string, owner: string): Promise<OrgRecord> {
    const now = Date.now();
    this.db.transaction(() => {
      this.claimNamespace(name, 'org', now);
      this.run('INSERT INTO org_members (org, user_name, owner) VALUES (?, ?, 1)', name, owner);
    })();
    return { name, createdAt: now };
  }

  async getOrg(name: string): Promise<OrgRecord | undefined> {
    const row = this.one<OrgRow>(`SELECT ${ORG_COLUMNS} FROM namespaces WHERE name = ? AND kind = 'org'`, name);
    return row && toOrg(row);
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return this.all<OrgRow>(`SELECT ${ORG_COLUMNS} FROM namespaces WHERE kind = 'org' ORDER BY name`).map(toOrg);
  }

  async deleteOrg(name: string): Promise<boolean> {
    return this.run("DELETE FROM namespaces WHERE name = ? AND kind = 'org'", name) > 0;
  }

  async setOrgMember(org: string, user: string, owner: boolean): Promise<void> {
    this.run(
      'INSERT INTO org_members (org, user_name, owner) VALUES (?, ?, ?) ON CONFLICT (org, user_name) DO UPDATE SET owner = excluded.owner',
      org,
      user,
      owner ? 1 : 0,
    );
  }

  async removeOrgMember(org: string, user: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.run('DELETE FROM team_members WHERE user_name = ? AND team_id IN (SELECT id FROM teams WHERE org = ?)', user, org);
      return this.run('DELETE FROM org_members WHERE org = ? AND user_name = ?', org, user) > 0;
    })();
  }

  async listOrgMembers(org: string): Promise<OrgMember[]> {
    return this.all<MemberRow>('SELECT user_name, owner FROM org_members WHERE org = ? ORDER BY user_name', org).map(toMember);
  }

  async orgsOf(user: string): Promise<string[]> {
    return this.all<{ org: string }>('SELECT org FROM org_members WHERE user_name = ? ORDER BY org', user).map((r) => r.org);
  }

  async orgAccess(org: string, user: string): Promise<OrgAccess | undefined> {
    const member = this.one<{ owner: number }>('SELECT owner FROM org_members WHERE org = ? AND user_name = ?', org, user);
    if (member === undefined) return undefined;
    const roles = this.all<{ repository: string; role: Role }>(
      `SELECT p.repository, p.role FROM team_permissions p
         JOIN teams t ON t.id = p.team_id
         JOIN team_members m ON m.team_id = t.id
        WHERE t.org = ? AND m.user_name = ?`,
      org,
      user,
    );
    return { owner: member.owner === 1, roles };
  }

  async createTeam(org: string, name: string): Promise<void> {
    try {
      this.run('INSERT INTO teams (org, name, created_at) VALUES (?, ?, ?)', org, name, Date.now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new AccountConflictError(`team ${org}/${name} exists`, { org, team: name });
      throw err;
    }
  }

  async deleteTeam(org: string, name: string): Promise<boolean> {
    return this.run('DELETE FROM teams WHERE org = ? AND name = ?', org, name) > 0;
  }

  async listTeams(org: string): Promise<TeamRecord[]> {
    const teams = this.all<{ id: number; name: string }>('SELECT id, name FROM teams WHERE org = ? ORDER BY name', org);
    return teams.map((t) => ({
      org,
      name: t.name,
      members: this.all<{ user_name: string }>('SELECT user_name FROM team_members WHERE team_id = ? ORDER BY user_name', t.id).map((r) => r.user_name),
      permissions: this.all<{ repository: string; role: Role }>('SELECT repository, role FROM team_permissions WHERE team_id = ? ORDER BY repository', t.id),
    }));
  }

  async addTeamMember(org: string, team: string, user: string): Promise<boolean> {
    return this.db.transaction(() => {
      const id = this.teamId(org, team);
      if (id === undefined) return false;
      this.run('INSERT INTO org_members (org, user_name, owner) VALUES (?, ?, 0) ON CONFLICT (org, user_name) DO NOTHING', org, user);
      this.run('INSERT INTO team_members (team_id, user_name) VALUES (?, ?) ON CONFLICT DO NOTHING', id, user);
      return true;
    })();
  }

  async removeTeamMember(org: string, team: string, user: string): Promise<boolean> {
    const id = this.teamId(org, team);
    return id !== undefined && this.run('DELETE FROM team_members WHERE team_id = ? AND user_name = ?', id, user) > 0;
  }

  async setTeamPermission(org: string, team: string, repository: string, role: Role | null): Promise<boolean> {
    const id = this.teamId(org, team);
    if (id === undefined) return false;
    if (role === null) this.run('DELETE FROM team_permissions WHERE team_id = ? AND repository = ?', id, repository);
    else
      this.run(
        'INSERT INTO team_permissions (team_id, repository, role) VALUES (?, ?, ?) ON CONFLICT (team_id, repository) DO UPDATE SET role = excluded.role',
        id,
        repository,
        role,
      );
    return true;
  }

  async getRepository(name: string): Promise<RepositorySettings | undefined> {
    const row = this.one<SettingsRow>(`SELECT ${SETTINGS_COLUMNS} FROM repository_settings WHERE name = ?`, name);
    return row && toSettings(row);
  }

  async claimRepository(name: string, namespace: string, visibility: Visibility, privateLimit = 0): Promise<RepositorySettings | undefined> {
    return this.db.transaction(() => this.claimNow(name, namespace, visibility, privateLimit))();
  }

  private claimNow(name: string, namespace: string, visibility: Visibility, privateLimit: number): RepositorySettings | undefined {
    const existing = this.one<SettingsRow>(`SELECT ${SETTINGS_COLUMNS} FROM repository_settings WHERE name = ?`, name);
    if (existing !== undefined) return toSettings(existing);
    if (visibility === 'private' && privateLimit > 0) {
      if (this.privateCount(namespace) >= privateLimit) return undefined;
    }
    return this.writeSettings(name, namespace, visibility, 'DO NOTHING');
  }

  /** Insert a repository's settings; on an existing row, `onConflict` decides (keep it, or take the new visibility). */
  private writeSettings(name: string, namespace: string, visibility: Visibility, onConflict: string): RepositorySettings {
    const now = Date.now();
    this.run(
      `INSERT INTO repository_settings (name, namespace, visibility, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) ${onConflict}`,
      name,
      namespace,
      visibility,
      now,
      now,
    );
    return toSettings(this.one<SettingsRow>(`SELECT ${SETTINGS_COLUMNS} FROM repository_settings WHERE name = ?`, name) as SettingsRow);
  }

  async setVisibility(name: string, namespace: string, visibility: Visibility): Promise<RepositorySettings> {
    return this.writeSettings(name, namespace, visibility, 'DO UPDATE SET visibility = excluded.visibility, updated_at = excluded.updated_at');
  }

  private privateCount(namespace: string): number {
    return this.one<{ n: number }>("SELECT COUNT(*) AS n FROM repository_settings WHERE namespace = ? AND visibility = 'private'", namespace)?.n ?? 0;
  }

  async countPrivate(namespace: string): Promise<number> {
    return this.privateCount(namespace);
  }


  async createToken(token: NewToken): Promise<TokenRecord> {
    const now = Date.now();
    this.run(
      'INSERT INTO access_tokens (id, user_name, kind, name, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      token.id,
      token.user,
      token.kind,
      token.name,
      token.secretHash,
      token.scopes === null ? null : JSON.stringify(token.scopes),
      now,
      token.expiresAt,
    );
    return newTokenRecord(token, now);
  }

  async findToken(secretHash: string, now: number): Promise<TokenRecord | undefined> {
    const row = this.one<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE secret_hash = ? AND (expires_at IS NULL OR expires_at > ?)`, secretHash, now);
    return row && toToken(row);
  }

  async listTokens(user: string): Promise<TokenRecord[]> {
    return this.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE user_name = ? ORDER BY created_at, id`, user).map(toToken);
  }

  async revokeToken(id: string): Promise<boolean> {
    return this.run('DELETE FROM access_tokens WHERE id = ?', id) > 0;
  }

  async revokeTokens(user: string, kind: TokenKind): Promise<number> {
    return this.run('DELETE FROM access_tokens WHERE user_name = ? AND kind = ?', user, kind);
  }

  async touchToken(id: string, now: number): Promise<void> {
    this.run('UPDATE access_tokens SET last_used_at = ? WHERE id = ?', now, id);
  }
}
