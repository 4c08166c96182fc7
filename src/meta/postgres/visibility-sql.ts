/**
 * An AccessFilter as SQL over `repository_info i` on PostgreSQL: SQLite's visibility-sql.ts with
 * arrays for JSON lists, booleans for flags and the planner left to pick the partial indexes
 * (schema/search.ts) by their predicates. Named parameters, through named.ts.
 */
import type { AccessFilter } from '../../auth/visibility.ts';
import type { NamedParams } from './named.ts';

type Restricted = Exclude<AccessFilter, { all: true }>;

/** A scoped token's patterns (`alice/app`, `alice/*`) cut the private part down. */
const RESTRICT = `(@restrict::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest(@restrict::text[]) p(value) WHERE p.value = i.name
    OR (right(p.value, 2) = '/*' AND left(i.name, length(p.value) - 1) = left(p.value, length(p.value) - 1))))`;
const NAMESPACES = 'i.namespace = ANY(@namespaces::text[])';
const REPOSITORIES = 'i.name = ANY(@repositories::text[])';

const PRIVATE_ACCESS = `(@everyNamespace::boolean OR ${NAMESPACES} OR ${REPOSITORIES}) AND ${RESTRICT}`;

/** What the caller may pull: for a WHERE clause over `i`. */
export const ACCESS = `(COALESCE(i.visibility, @defaultVisibility::text) = 'public' OR (${PRIVATE_ACCESS}))`;

export function accessParams(access: Restricted): NamedParams {
  return {
    defaultVisibility: access.defaultPublic ? 'public' : 'private',
    everyNamespace: access.everyNamespace === true,
    namespaces: access.namespaces,
    repositories: access.repositories,
    restrict: access.restrict ?? null,
  };
}

const part = (condition: string): string =>
  `(SELECT i.name FROM repository_info i WHERE i.listed AND ${condition} AND i.name > @last ORDER BY i.name LIMIT @n)`;

/**
 * A catalog page for a caller who is not an administrator: the union of public repositories,
 * those without settings when the default is public, and the caller's own, each part read from
 * its index in name order from `last` (about n rows per part, whatever is hidden between).
 */
export function catalogQuery(access: Restricted): { sql: string; params: (last: string, n: number) => NamedParams } {
  const parts = [part("i.visibility = 'public'")];
  if (access.defaultPublic) parts.push(part('i.visibility IS NULL'));
  const own: NamedParams = {};
  if (access.everyNamespace === true) parts.push(part(RESTRICT));
  else {
    if (access.namespaces.length > 0) {
      parts.push(part(`${NAMESPACES} AND ${RESTRICT}`));
      own['namespaces'] = access.namespaces;
    }
    if (access.repositories.length > 0) {
      parts.push(part(`${REPOSITORIES} AND ${RESTRICT}`));
      own['repositories'] = access.repositories;
    }
  }
  const restricted = parts.length > (access.defaultPublic ? 2 : 1);
  if (restricted) own['restrict'] = access.restrict ?? null;
  return {
    sql: `SELECT name FROM (${parts.join(' UNION ')}) AS page ORDER BY name LIMIT @n`,
    params: (last, n) => ({ ...own, last, n }),
  };
}
