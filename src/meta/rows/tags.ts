/**
 * The SQL behind MetaStore.queryTags and totalSize, the same on SQLite and PostgreSQL: a page of
 * tags sorted in the database, with the bytes each manifest accounts for. The size of a manifest
 * is summed over the distinct blobs of its closure (itself, its references, and for an index its
 * children's references), so a layer shared by two platforms counts once. Sizes are computed for
 * the page only, unless the sort is by size. On PostgreSQL names are COLLATE "C", so name order
 * and lower() (ASCII only) are SQLite's.
 */
import type { SortOrder, TagSort, TaggedManifest } from '../store.ts';
import { MANIFEST_COLUMNS, toManifest, type ManifestRow } from './manifests.ts';

export interface TaggedRow extends ManifestRow {
  tag: string;
  pushed_at: number;
  total_size: number;
}

export const toTagged = (r: TaggedRow): TaggedManifest => ({ tag: r.tag, manifest: toManifest(r), totalSize: r.total_size, pushedAt: r.pushed_at });

export interface TagQueries {
  /** Tags of @repo whose name contains @pattern; one row `n`. */
  countTags: string;
  /** The bytes of the manifest @digest of @repo; one row `size`. */
  totalSize: string;
  /** The page's SQL for a sort and order; parameters @repo, @pattern, @limit, @offset. */
  page(sort: TagSort, order: SortOrder): string;
}

/** The repository's tags whose name contains the @pattern (a LIKE pattern, lower case). */
const MATCHED = `SELECT t.name, t.manifest_digest AS digest, t.updated_at FROM tags t
  WHERE t.repository_id = @repo AND lower(t.name) LIKE @pattern ESCAPE '\\'`;

function orderBy(sort: TagSort, order: SortOrder, table: string): string {
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  switch (sort) {
    case 'name':
      return `${table}.name ${dir}`;
    case 'pushed':
      return `${table}.updated_at ${dir}, ${table}.name`;
    case 'size':
      return `total_size ${dir}, ${table}.name`;
  }
}

/**
 * The queries of a dialect. `sumCast` follows every SUM: '' on SQLite, '::bigint' on PostgreSQL
 * (which sums BIGINT into NUMERIC, read by pg as a string).
 */
export function tagQueries(sumCast: '' | '::bigint'): TagQueries {
  /**
   * `sizes(root, size)` for every digest of the CTE `roots(digest)` (manifests of repository @repo).
   * UNION (not UNION ALL) keeps each (root, blob) pair once.
   */
  const sizes = `parts AS (
  SELECT digest AS root, digest AS part FROM roots
  UNION SELECT r.manifest_digest, r.child_digest FROM manifest_references r
    WHERE r.repository_id = @repo AND r.manifest_digest IN (SELECT digest FROM roots)
  UNION SELECT r.manifest_digest, g.child_digest FROM manifest_references r
    JOIN manifest_references g ON g.repository_id = r.repository_id AND g.manifest_digest = r.child_digest
    WHERE r.repository_id = @repo AND r.kind = 'manifest' AND r.manifest_digest IN (SELECT digest FROM roots)
),
sizes AS (SELECT p.root, SUM(b.size)${sumCast} AS size FROM parts p JOIN blobs b ON b.digest = p.part GROUP BY p.root)`;
  return {
    countTags: `SELECT COUNT(*) AS n FROM (${MATCHED}) matched`,
    totalSize: `WITH roots AS (SELECT m.digest FROM manifests m WHERE m.repository_id = @repo AND m.digest = @digest),
${sizes}
SELECT COALESCE(SUM(size), 0)${sumCast} AS size FROM sizes`,
    page(sort: TagSort, order: SortOrder): string {
      const page = 'LIMIT @limit OFFSET @offset';
      // By name or push time, the page is cut from the tags table before any size is computed.
      const tagged = sort === 'size' ? MATCHED : `${MATCHED} ORDER BY ${orderBy(sort, order, 't')} ${page}`;
      return `WITH tagged AS (${tagged}),
roots AS (SELECT DISTINCT digest FROM tagged),
${sizes}
SELECT tagged.name AS tag, tagged.updated_at AS pushed_at, COALESCE(sizes.size, 0) AS total_size, ${MANIFEST_COLUMNS}
FROM tagged JOIN manifests m ON m.repository_id = @repo AND m.digest = tagged.digest
LEFT JOIN sizes ON sizes.root = tagged.digest
ORDER BY ${orderBy(sort, order, 'tagged')}${sort === 'size' ? ` ${page}` : ''}`;
    },
  };
}

/** The LIKE pattern of names containing `text`, case-insensitive (the SQL lowers the name). */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
}
