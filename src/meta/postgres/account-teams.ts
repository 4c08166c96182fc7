/**
 * Organisations' members, teams and team roles on PostgreSQL: the part of PgAccountStore
 * (account-store.ts) that reads and writes org_members, teams, team_members and team_permissions,
 * with the orderings and errors of sqlite/account-store.ts. A write that looks a team up does it
 * in the same statement, or holds the team row (FOR KEY SHARE) until it commits.
 */
import type { OrgAccess, OrgMember, OrgRecord, Role, TeamRecord } from '../../auth/store.ts';
import { AccountConflictError } from '../../auth/errors.ts';
import { isUniqueViolation, type PgDatabase } from './database.ts';
import { ORG_COLUMNS, toMember, toOrg, type MemberRow, type OrgRow } from '../rows/accounts.ts';

/** PostgreSQL's foreign_key_violation: a team in an organisation that does not exist. */
const isForeignKeyViolation = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';

export class PgTeams {
  constructor(private readonly db: PgDatabase) {}

  async getOrg(name: string): Promise<OrgRecord | undefined> {
    const row = await this.db.one<OrgRow>(`SELECT ${ORG_COLUMNS} FROM namespaces WHERE name = $1 AND kind = 'org'`, [name]);
    return row && toOrg(row);
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return (await this.db.rows<OrgRow>(`SELECT ${ORG_COLUMNS} FROM namespaces WHERE kind = 'org' ORDER BY name`)).map(toOrg);
  }

  async setOrgMember(org: string, user: string, owner: boolean): Promise<void> {
    await this.db.query(
      'INSERT INTO org_members (org, user_name, owner) VALUES ($1, $2, $3) ON CONFLICT (org, user_name) DO UPDATE SET owner = excluded.owner',
      [org, user, owner],
    );
  }

  async removeOrgMember(org: string, user: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM team_members WHERE user_name = $1 AND team_id IN (SELECT id FROM teams WHERE org = $2)', [user, org]);
      return ((await tx.query('DELETE FROM org_members WHERE org = $1 AND user_name = $2', [org, user])).rowCount ?? 0) > 0;
    });
  }

  async listOrgMembers(org: string): Promise<OrgMember[]> {
    const rows = await this.db.rows<MemberRow>('SELECT user_name, owner FROM org_members WHERE org = $1 ORDER BY user_name', [org]);
    return rows.map(toMember);
  }

  async orgsOf(user: string): Promise<string[]> {
    return (await this.db.rows<{ org: string }>('SELECT org FROM org_members WHERE user_name = $1 ORDER BY org', [user])).map((r) => r.org);
  }

  async orgAccess(org: string, user: string): Promise<OrgAccess | undefined> {
    const member = await this.db.one<{ owner: boolean }>('SELECT owner FROM org_members WHERE org = $1 AND user_name = $2', [org, user]);
    if (member === undefined) return undefined;
    // the order SQLite's plan gives (teams by name, then each team's permissions by repository)
    const roles = await this.db.rows<{ repository: string; role: Role }>(
      `SELECT p.repository, p.role FROM team_permissions p
         JOIN teams t ON t.id = p.team_id
         JOIN team_members m ON m.team_id = t.id
        WHERE t.org = $1 AND m.user_name = $2
        ORDER BY t.name, p.repository`,
      [org, user],
    );
    return { owner: member.owner, roles };
  }

  async createTeam(org: string, name: string): Promise<void> {
    try {
      await this.db.query('INSERT INTO teams (org, name, created_at) VALUES ($1, $2, $3)', [org, name, Date.now()]);
    } catch (err) {
      // SQLite reports any constraint (the name taken, or no such organisation) as this conflict
      if (isUniqueViolation(err) || isForeignKeyViolation(err)) throw new AccountConflictError(`team ${org}/${name} exists`, { org, team: name });
      throw err;
    }
  }

  async deleteTeam(org: string, name: string): Promise<boolean> {
    return ((await this.db.query('DELETE FROM teams WHERE org = $1 AND name = $2', [org, name])).rowCount ?? 0) > 0;
  }

  /** Three queries for the whole organisation, grouped here (SQLite asks per team: cheap there, round trips here). */
  async listTeams(org: string): Promise<TeamRecord[]> {
    const [teams, members, permissions] = await Promise.all([
      this.db.rows<{ id: number; name: string }>('SELECT id, name FROM teams WHERE org = $1 ORDER BY name', [org]),
      this.db.rows<{ team_id: number; user_name: string }>(
        'SELECT m.team_id, m.user_name FROM team_members m JOIN teams t ON t.id = m.team_id WHERE t.org = $1 ORDER BY m.user_name',
        [org],
      ),
      this.db.rows<{ team_id: number; repository: string; role: Role }>(
        'SELECT p.team_id, p.repository, p.role FROM team_permissions p JOIN teams t ON t.id = p.team_id WHERE t.org = $1 ORDER BY p.repository',
        [org],
      ),
    ]);
    return teams.map((t) => ({
      org,
      name: t.name,
      members: members.filter((m) => m.team_id === t.id).map((m) => m.user_name),
      permissions: permissions.filter((p) => p.team_id === t.id).map((p) => ({ repository: p.repository, role: p.role })),
    }));
  }

  async addTeamMember(org: string, team: string, user: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const id = (await this.db.one<{ id: number }>('SELECT id FROM teams WHERE org = $1 AND name = $2 FOR KEY SHARE', [org, team], tx))?.id;
      if (id === undefined) return false;
      await tx.query('INSERT INTO org_members (org, user_name, owner) VALUES ($1, $2, false) ON CONFLICT (org, user_name) DO NOTHING', [org, user]);
      await tx.query('INSERT INTO team_members (team_id, user_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, user]);
      return true;
    });
  }

  async removeTeamMember(org: string, team: string, user: string): Promise<boolean> {
    const deleted = await this.db.query(
      'DELETE FROM team_members WHERE team_id = (SELECT id FROM teams WHERE org = $1 AND name = $2) AND user_name = $3',
      [org, team, user],
    );
    return (deleted.rowCount ?? 0) > 0;
  }

  /** One statement either way; true when the team exists (whether or not the role changed). */
  async setTeamPermission(org: string, team: string, repository: string, role: Role | null): Promise<boolean> {
    const sql =
      role === null
        ? `WITH t AS (SELECT id FROM teams WHERE org = $1 AND name = $2),
                d AS (DELETE FROM team_permissions WHERE team_id IN (SELECT id FROM t) AND repository = $3)
           SELECT id FROM t`
        : `INSERT INTO team_permissions (team_id, repository, role)
           SELECT id, $3, $4 FROM teams WHERE org = $1 AND name = $2
           ON CONFLICT (team_id, repository) DO UPDATE SET role = excluded.role
           RETURNING team_id`;
    const result = await this.db.query(sql, role === null ? [org, team, repository] : [org, team, repository, role]);
    return (result.rowCount ?? 0) > 0;
  }
}
