/**
 * The search index on SQLite FTS5 (migration 5, search-schema.ts). Visibility is a condition of the
 * query itself (never a filter after pagination), so counts, pages and timing only ever reflect
 * what the caller may pull. The SQL outside the FTS `MATCH` is plain; a PostgreSQL implementation
 * swaps the match for `to_tsquery` and `json_each` for `= ANY($n)`.
 */
import { PreparedStatements } from './prepared.ts';
import type Database from 'better-sqlite3';
import type {
  DescriptionChange,
  RepositoryDetails,
  RepositorySummary,
  SearchIndex,
  SearchQuery,
  SearchResult,
  SearchSort,
} from '../../search/model.ts';
import { searchTerms } from '../../search/terms.ts';
import { ACCESS, accessParams, type Params } from './visibility-sql.ts';

interface InfoRow {
  name: string;
  namespace: string;
  description: string;
  full_description: string;
  star_count: number;
  pull_count: number;
  is_official: number;
  is_automated: number;
  updated_at: number;
  visibility: string | null;
}

const COLUMNS = 'i.name, i.namespace, i.description, i.star_count, i.pull_count, i.is_official, i.is_automated, i.updated_at, i.visibility';

const toSummary = (r: InfoRow): RepositorySummary => ({
  name: r.name,
  namespace: r.namespace,
  description: r.description,
  starCount: r.star_count,
  pullCount: r.pull_count,
  isOfficial: r.is_official === 1,
  isAutomated: r.is_automated === 1,
  updatedAt: r.updated_at,
  visibility: r.visibility === 'public' || r.visibility === 'private' ? r.visibility : null,
});

/** Exact names first (the whole name or its last component), then prefixes, then the rest. */
const TIER = `CASE WHEN i.name = @text OR i.short_name = @text THEN 0
  WHEN substr(i.name, 1, length(@text)) = @text OR substr(i.short_name, 1, length(@text)) = @text THEN 1 ELSE 2 END`;

const ORDER: Record<SearchSort, string> = {
  relevance: `${TIER}, i.star_count DESC, i.pull_count DESC, i.is_official DESC, i.name`,
  stars: 'i.star_count DESC, i.pull_count DESC, i.name',
  pulls: 'i.pull_count DESC, i.star_count DESC, i.name',
  updated: 'i.updated_at DESC, i.name',
};


export class SqliteSearchIndex implements SearchIndex {
  private readonly statements: PreparedStatements;

  constructor(private readonly db: Database.Database) {
    this.statements = new PreparedStatements(db);
  }

  private prepared(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const where = ['i.listed = 1'];
    const params: Params = { text: q.text.trim().toLowerCase() };
    let from = 'repository_info i';
    const terms = searchTerms(q.text);
    if (terms.length > 0) {
      from = 'repository_search s JOIN repository_info i ON i.id = s.rowid';
      where.push('repository_search MATCH @match');
      params['match'] = terms.map((t) => `"${t}"*`).join(' ');
    }
    if (!q.access.all) {
      where.push(ACCESS);
      Object.assign(params, accessParams(q.access));
    }
    if (q.namespace !== undefined) {
      where.push('i.namespace = @namespace');
      params['namespace'] = q.namespace;
    }
    if (q.official !== undefined) {
      where.push('i.is_official = @official');
      params['official'] = q.official ? 1 : 0;
    }
    if (q.minStars !== undefined && q.minStars > 0) {
      where.push('i.star_count >= @minStars');
      params['minStars'] = q.minStars;
    }
    const conditions = where.join(' AND ');
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM ${from} WHERE ${conditions}`).get(withoutText(params)) as { n: number }).n;
    if (total === 0 || q.offset >= total) return { total, hits: [] };
    const order = q.sort === 'relevance' && terms.length > 0 ? ORDER.relevance : q.sort === 'relevance' ? ORDER.stars : ORDER[q.sort];
    const sql = `SELECT ${COLUMNS} FROM ${from} WHERE ${conditions} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
    const usesText = order.includes('@text');
    const rows = this.prepared(sql).all({ ...(usesText ? params : withoutText(params)), limit: q.limit, offset: q.offset }) as InfoRow[];
    return { total, hits: rows.map(toSummary) };
  }

  async details(name: string, user?: string): Promise<RepositoryDetails | undefined> {
    const row = this.prepared(`SELECT ${COLUMNS}, i.full_description FROM repository_info i WHERE i.name = ? AND i.listed = 1`).get(name) as
      | InfoRow
      | undefined;
    if (row === undefined) return undefined;
    const starred = user !== undefined && this.prepared('SELECT 1 FROM repository_stars WHERE repository = ? AND user_name = ?').get(name, user) !== undefined;
    return { ...toSummary(row), fullDescription: row.full_description, starred };
  }

  async describe(name: string, change: DescriptionChange): Promise<boolean> {
    const sets: string[] = [];
    const params: Params = { name };
    if (change.description !== undefined) {
      sets.push('description = @description');
      params['description'] = change.description;
    }
    if (change.fullDescription !== undefined) {
      sets.push('full_description = @fullDescription');
      params['fullDescription'] = change.fullDescription;
    }
    if (sets.length === 0) return (await this.details(name)) !== undefined;
    return this.prepared(`UPDATE repository_info SET ${sets.join(', ')} WHERE name = @name AND listed = 1`).run(params).changes > 0;
  }

  async star(name: string, user: string, on: boolean): Promise<number | undefined> {
    return this.db.transaction(() => {
      const row = this.prepared('SELECT star_count FROM repository_info WHERE name = ? AND listed = 1').get(name) as { star_count: number } | undefined;
      if (row === undefined) return undefined;
      const changed = on
        ? this.prepared('INSERT INTO repository_stars (repository, user_name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(name, user, Date.now()).changes
        : this.prepared('DELETE FROM repository_stars WHERE repository = ? AND user_name = ?').run(name, user).changes;
      if (changed === 0) return row.star_count;
      const delta = on ? 1 : -1;
      this.prepared('UPDATE repository_info SET star_count = star_count + ? WHERE name = ?').run(delta, name);
      return row.star_count + delta;
    })();
  }

  async addPulls(counts: ReadonlyMap<string, number>): Promise<void> {
    if (counts.size === 0) return;
    const st = this.prepared('UPDATE repository_info SET pull_count = pull_count + ? WHERE name = ?');
    this.db.transaction(() => {
      for (const [name, n] of counts) st.run(n, name);
    })();
  }

  async starredBy(user: string): Promise<string[]> {
    const rows = this.prepared('SELECT repository FROM repository_stars WHERE user_name = ? ORDER BY repository').all(user) as { repository: string }[];
    return rows.map((r) => r.repository);
  }
}

/** better-sqlite3 refuses named parameters a statement does not use. */
function withoutText(params: Params): Params {
  const { text: _text, ...rest } = params;
  return rest;
}
