/**
 * The search index on PostgreSQL: the twin of SQLite's search-index.ts over the same
 * `repository_info` (schema/search.ts), with the FTS5 `MATCH` swapped for the generated tsvector
 * column and a prefix tsquery. The tsvector holds FTS5's own tokens (schema/unicode61.ts) and the
 * query's terms go through the same tokenizer here, so hits, order and totals are SQLite's.
 * Visibility is a condition of the query itself (visibility-sql.ts), never a filter afterwards.
 * Stars and pull counts are atomic across nodes: row locks, taken in name order for batches.
 */
import type { DescriptionChange, RepositoryDetails, SearchIndex, SearchQuery, SearchResult } from '../../search/model.ts';
import { searchTerms } from '../../search/terms.ts';
import type { PgDatabase } from './database.ts';
import { named, type NamedParams } from './named.ts';
import { fts5Tokens } from './schema/unicode61.ts';
import { ACCESS, accessParams } from './visibility-sql.ts';
import { descriptionSets, INFO_COLUMNS, infoFilters, orderOf, searchOrders, toDetails, toSummary, type InfoRow } from '../rows/search.ts';

/** Exact names first (the whole name or its last component), then prefixes, then the rest. */
const TIER = `CASE WHEN i.name = @text::text OR i.short_name = @text::text THEN 0
  WHEN left(i.name, length(@text::text)) = @text::text OR left(i.short_name, length(@text::text)) = @text::text THEN 1 ELSE 2 END`;

const ORDER = searchOrders(TIER);

/** A lexeme in tsquery syntax: quoted, quotes doubled and backslashes escaped (tsquery's input rules). */
const lexeme = (token: string): string => `'${token.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * What FTS5 matches for the query `"term1"* "term2"*`: each term's tokens, its last one as a prefix.
 * A term FTS5 splits in two (a few letters it counts as separators) needs both tokens, not side by
 * side as FTS5's phrase would; a term with no token is ignored, as FTS5 does. undefined when no
 * term has a token (FTS5 then matches nothing).
 */
export function prefixQuery(terms: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const term of terms) {
    const tokens = fts5Tokens(term);
    tokens.forEach((t, n) => parts.push(n === tokens.length - 1 ? `${lexeme(t)}:*` : lexeme(t)));
  }
  return parts.length === 0 ? undefined : parts.join(' & ');
}

export class PgSearchIndex implements SearchIndex {
  constructor(private readonly db: PgDatabase) {}

  private async rows<R extends object>(sql: string, params: NamedParams): Promise<R[]> {
    const q = named(sql, params);
    return this.db.rows<R>(q.text, q.values);
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const where = ['i.listed'];
    const text = q.text.trim().toLowerCase();
    // PostgreSQL text holds no NUL, and no name holds one: NULL makes every name tier 2, as it is on SQLite
    const params: NamedParams = { text: text.includes('\0') ? null : text };
    const terms = searchTerms(q.text);
    if (terms.length > 0) {
      const match = prefixQuery(terms);
      if (match === undefined) where.push('false');
      else {
        where.push('i.search @@ @match::tsquery');
        params['match'] = match;
      }
    }
    if (!q.access.all) {
      where.push(ACCESS);
      Object.assign(params, accessParams(q.access));
    }
    const filters = infoFilters(q, (on) => on);
    where.push(...filters.conditions);
    Object.assign(params, filters.params);
    const conditions = where.join(' AND ');
    const [counted] = await this.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM repository_info i WHERE ${conditions}`, params);
    const total = counted?.n ?? 0;
    if (total === 0 || q.offset >= total) return { total, hits: [] };
    const order = orderOf(ORDER, q.sort, terms.length > 0);
    const sql = `SELECT ${INFO_COLUMNS} FROM repository_info i WHERE ${conditions} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
    const rows = await this.rows<InfoRow>(sql, { ...params, limit: q.limit, offset: q.offset });
    return { total, hits: rows.map(toSummary) };
  }

  async details(name: string, user?: string): Promise<RepositoryDetails | undefined> {
    const row = await this.db.one<InfoRow>(`SELECT ${INFO_COLUMNS}, i.full_description FROM repository_info i WHERE i.name = $1 AND i.listed`, [name]);
    if (row === undefined) return undefined;
    const starred = user !== undefined && (await this.db.one('SELECT 1 FROM repository_stars WHERE repository = $1 AND user_name = $2', [name, user])) !== undefined;
    return toDetails(row, starred);
  }

  async describe(name: string, change: DescriptionChange): Promise<boolean> {
    const { sets, params } = descriptionSets(change);
    if (sets.length === 0) return (await this.details(name)) !== undefined;
    const q = named(`UPDATE repository_info SET ${sets.join(', ')} WHERE name = @name AND listed`, { ...params, name });
    return ((await this.db.query(q.text, q.values)).rowCount ?? 0) > 0;
  }

  async star(name: string, user: string, on: boolean): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      // the row lock orders concurrent stars of this repository from every node
      const row = await this.db.one<{ star_count: number }>('SELECT star_count FROM repository_info WHERE name = $1 AND listed FOR UPDATE', [name], tx);
      if (row === undefined) return undefined;
      const changed = on
        ? await tx.query('INSERT INTO repository_stars (repository, user_name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [name, user, Date.now()])
        : await tx.query('DELETE FROM repository_stars WHERE repository = $1 AND user_name = $2', [name, user]);
      if ((changed.rowCount ?? 0) === 0) return row.star_count;
      const updated = await this.db.one<{ star_count: number }>(
        'UPDATE repository_info SET star_count = star_count + $2 WHERE name = $1 RETURNING star_count',
        [name, on ? 1 : -1],
        tx,
      );
      return updated?.star_count;
    });
  }

  async addPulls(counts: ReadonlyMap<string, number>): Promise<void> {
    if (counts.size === 0) return;
    const names = [...counts.keys()];
    const ns = names.map((n) => counts.get(n) ?? 0);
    await this.db.transaction(async (tx) => {
      // rows locked in name order, so two nodes adding pulls to the same repositories never deadlock
      await tx.query('SELECT 1 FROM repository_info WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [names]);
      await tx.query(
        'UPDATE repository_info i SET pull_count = i.pull_count + c.n FROM unnest($1::text[], $2::bigint[]) AS c(name, n) WHERE i.name = c.name',
        [names, ns],
      );
    });
  }

  async starredBy(user: string): Promise<string[]> {
    const rows = await this.db.rows<{ repository: string }>('SELECT repository FROM repository_stars WHERE user_name = $1 ORDER BY repository', [user]);
    return rows.map((r) => r.repository);
  }
}
