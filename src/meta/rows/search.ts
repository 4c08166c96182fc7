/**
 * What both search indexes (sqlite/search-index.ts on FTS5, postgres/search-index.ts on a
 * tsvector) share over repository_info: the row they read and its mapping to a summary, the
 * orders of the sorts around the dialect's own relevance tier, and the conditions and updates
 * written alike on both. The text match and the tier's SQL stay in each index.
 */
import type { DescriptionChange, RepositoryDetails, RepositorySummary, SearchQuery, SearchSort } from '../../search/model.ts';
import { flag, type Flag } from './flag.ts';

export interface InfoRow {
  name: string;
  namespace: string;
  description: string;
  full_description: string;
  star_count: number;
  pull_count: number;
  is_official: Flag;
  is_automated: Flag;
  updated_at: number;
  visibility: string | null;
}

/** InfoRow's columns but full_description, from repository_info aliased `i`. */
export const INFO_COLUMNS = 'i.name, i.namespace, i.description, i.star_count, i.pull_count, i.is_official, i.is_automated, i.updated_at, i.visibility';

export const toSummary = (r: InfoRow): RepositorySummary => ({
  name: r.name,
  namespace: r.namespace,
  description: r.description,
  starCount: r.star_count,
  pullCount: r.pull_count,
  isOfficial: flag(r.is_official),
  isAutomated: flag(r.is_automated),
  updatedAt: r.updated_at,
  visibility: r.visibility === 'public' || r.visibility === 'private' ? r.visibility : null,
});

export const toDetails = (r: InfoRow, starred: boolean): RepositoryDetails => ({ ...toSummary(r), fullDescription: r.full_description, starred });

/**
 * The ORDER BY of each sort. `tier` is the dialect's CASE ranking exact names first (the whole
 * name or its last component), then prefixes, then the rest, from the parameter @text.
 */
export function searchOrders(tier: string): Record<SearchSort, string> {
  return {
    relevance: `${tier}, i.star_count DESC, i.pull_count DESC, i.is_official DESC, i.name`,
    stars: 'i.star_count DESC, i.pull_count DESC, i.name',
    pulls: 'i.pull_count DESC, i.star_count DESC, i.name',
    updated: 'i.updated_at DESC, i.name',
  };
}

/** The order of a query: relevance ranks by the text's terms, and is by stars when it has none. */
export function orderOf(orders: Record<SearchSort, string>, sort: SearchSort, hasTerms: boolean): string {
  if (sort !== 'relevance') return orders[sort];
  return hasTerms ? orders.relevance : orders.stars;
}

/**
 * The query's conditions on namespace, official and stars, with their named parameters;
 * `official` writes the flag as the dialect stores it.
 */
export function infoFilters<V>(q: SearchQuery, official: (on: boolean) => V): { conditions: string[]; params: Record<string, string | number | V> } {
  const conditions: string[] = [];
  const params: Record<string, string | number | V> = {};
  if (q.namespace !== undefined) {
    conditions.push('i.namespace = @namespace');
    params['namespace'] = q.namespace;
  }
  if (q.official !== undefined) {
    conditions.push('i.is_official = @official');
    params['official'] = official(q.official);
  }
  if (q.minStars !== undefined && q.minStars > 0) {
    conditions.push('i.star_count >= @minStars');
    params['minStars'] = q.minStars;
  }
  return { conditions, params };
}

/** The SET clauses of a description change (none when it changes nothing), named parameters. */
export function descriptionSets(change: DescriptionChange): { sets: string[]; params: Record<string, string> } {
  const sets: string[] = [];
  const params: Record<string, string> = {};
  if (change.description !== undefined) {
    sets.push('description = @description');
    params['description'] = change.description;
  }
  if (change.fullDescription !== undefined) {
    sets.push('full_description = @fullDescription');
    params['fullDescription'] = change.fullDescription;
  }
  return { sets, params };
}
