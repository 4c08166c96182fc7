/**
 * An AccessFilter (auth/visibility.ts, derived from the access policy) as SQL over
 * `repository_info i`, which carries each repository's visibility: one condition for search, and
 * the catalog's page query. Both put visibility inside the query, never after it.
 */
import type { AccessFilter } from '../../auth/visibility.ts';

type Restricted = Exclude<AccessFilter, { all: true }>;
export type Params = Record<string, string | number | null>;

/** A scoped token's patterns (`alice/app`, `alice/*`) cut the private part down. */
const RESTRICT = `(@restrict IS NULL OR EXISTS (SELECT 1 FROM json_each(@restrict) p WHERE p.value = i.name
    OR (substr(p.value, -2) = '/*' AND substr(i.name, 1, length(p.value) - 1) = substr(p.value, 1, length(p.value) - 1))))`;
const NAMESPACES = 'i.namespace IN (SELECT value FROM json_each(@namespaces))';
const REPOSITORIES = 'i.name IN (SELECT value FROM json_each(@repositories))';

/** The private repositories the caller may pull. */
const PRIVATE_ACCESS = `(@everyNamespace = 1 OR ${NAMESPACES} OR ${REPOSITORIES}) AND ${RESTRICT}`;

/** What the caller may pull: for a WHERE clause over `i`. */
export const ACCESS = `(COALESCE(i.visibility, @defaultVisibility) = 'public' OR (${PRIVATE_ACCESS}))`;

export function accessParams(access: Restricted): Params {
  return {
    defaultVisibility: access.defaultPublic ? 'public' : 'private',
    everyNamespace: access.everyNamespace === true ? 1 : 0,
    namespaces: JSON.stringify(access.namespaces),
    repositories: JSON.stringify(access.repositories),
    restrict: access.restrict === undefined ? null : JSON.stringify(access.restrict),
  };
}

/**
 * One part of the catalog: names after @last in order, at most @n. The public parts walk their own
 * partial index (migration 8: INDEXED BY, so the planner never walks every name instead); the
 * caller's own parts read their namespaces' rows (`+i.listed` keeps the planner on the namespace
 * and name indexes), which only ever holds what the caller may see.
 */
const part = (condition: string, index?: string): string =>
  `SELECT name FROM (SELECT i.name FROM repository_info i${index === undefined ? '' : ` INDEXED BY ${index}`} WHERE ${index === undefined ? '+i.listed' : 'i.listed'} = 1 AND ${condition} AND i.name > @last ORDER BY i.name LIMIT @n)`;

/**
 * A catalog page for a caller who is not an administrator: the union of public repositories,
 * those without settings when the default is public, and the caller's own ones, each part read
 * from its index in name order from `last` (migration 8). A page costs about n rows per part,
 * whatever the caller and however many names it may not see: no timing tells hidden names apart.
 */
export function catalogQuery(access: Restricted): { sql: string; params: (last: string, n: number) => Params } {
  const parts = [part("i.visibility = 'public'", 'repository_info_public')];
  if (access.defaultPublic) parts.push(part('i.visibility IS NULL', 'repository_info_unset'));
  const own: Params = {};
  if (access.everyNamespace === true) parts.push(part(RESTRICT));
  else {
    if (access.namespaces.length > 0) {
      parts.push(part(`${NAMESPACES} AND ${RESTRICT}`));
      own['namespaces'] = JSON.stringify(access.namespaces);
    }
    if (access.repositories.length > 0) {
      parts.push(part(`${REPOSITORIES} AND ${RESTRICT}`));
      own['repositories'] = JSON.stringify(access.repositories);
    }
  }
  const restricted = parts.length > (access.defaultPublic ? 2 : 1);
  if (restricted) own['restrict'] = access.restrict === undefined ? null : JSON.stringify(access.restrict);
  return {
    sql: `SELECT name FROM (${parts.join(' UNION ')}) ORDER BY name LIMIT @n`,
    params: (last, n) => ({ ...own, last, n }),
  };
}
