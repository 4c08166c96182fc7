/**
 * The search index on SQLite FTS5 (migration 5, search-schema.ts). Visibility is a condition of the
 * query itself (never a filter after pagination), so counts, pages and timing only ever reflect
 * what the caller may pull. The SQL outside the FTS `MATCH` is plain; a PostgreSQL implementation
 * swaps the match for `to_tsquery` and `json_each` for `= ANY($n)`.
 */
import { PreparedStatements } from './prepared.ts';
import type Database from 'better-sqlite3';
import type { DescriptionChange, RepositoryDetails, SearchIndex, SearchQuery, SearchResult } from '../../search/model.ts';
import { searchTerms } from '../../search/terms.ts';
import { ACCESS, accessParams, type Params } from './visibility-sql.ts';
import { descriptionSets, INFO_COLUMNS, infoFilters, orderOf, searchOrders, toDetails, toSummary, type InfoRow } from '../rows/search.ts';

/** Exact names first (the whole name or its last component), then prefixes, then the rest. */
const TIER = `CASE WHEN i.name = @text OR i.short_name = @text THEN 0
  WHEN substr(i.name, 1, length(@text)) = @text OR substr(i.short_name, 1, length(@text)) = @text THEN 1 ELSE 2 END`;

const ORDER = searchOrders(TIER);


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
    const filters = infoFilters(q, (on) => (on ? 1 : 0));
    where.push(...filters.conditions);
    Object.assign(params, filters.params);
    const conditions = where.join(' AND ');
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM ${from} WHERE ${conditions}`).get(withoutText(params)) as { n: number }).n;
    if (total === 0 || q.offset >= total) return { total, hits: [] };
    const order = orderOf(ORDER, q.sort, terms.length > 0);
    const sql = `SELECT ${INFO_COLUMNS} FROM ${from} WHERE ${conditions} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
    const usesText = order.includes('@text');
    const rows = this.prepared(sql).all({ ...(usesText ? params : withoutText(params)), limit: q.limit, offset: q.offset }) as InfoRow[];
    return { total, hits: rows.map(toSummary) };
  }

  async details(name: string, user?: string): Promise<RepositoryDetails | undefined> {
    const row = this.prepared(`SELECT ${INFO_COLUMNS}, i.full_description FROM repository_info i WHERE i.name = ? AND i.listed = 1`).get(name) as
      | InfoRow
      | undefined;
    if (row === undefined) return undefined;
    const starred = user !== undefined && this.prepared('SELECT 1 FROM repository_stars WHERE repository = ? AND user_name = ?').get(name, user) !== undefined;
    return toDetails(row, starred);
  }

  async describe(name: string, change: DescriptionChange): Promise<boolean> {
    const { sets, params } = descriptionSets(change);
    if (sets.length === 0) return (await this.details(name)) !== undefined;
    return this.prepared(`UPDATE repository_info SET ${sets.join(', ')} WHERE name = @name AND listed = 1`).run({ ...params, name }).changes > 0;
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
