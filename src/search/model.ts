/**
 * Discovery: what `docker search`, `podman search` and the UI find. The index is kept by the
 * meta store's database (updated in the same transaction as pushes and deletes); this module holds
 * the model and the SearchIndex interface that each database implements (SQLite FTS5 now,
 * PostgreSQL full-text search later), checked by one conformance suite (conformance.ts).
 */

import type { Visibility } from '../auth/store.ts';

export type SearchSort = 'relevance' | 'stars' | 'pulls' | 'updated';
export const SEARCH_SORTS: readonly SearchSort[] = ['relevance', 'stars', 'pulls', 'updated'];

import type { AccessFilter } from '../auth/visibility.ts';

export { SEE_EVERYTHING, type AccessFilter } from '../auth/visibility.ts';

export interface SearchQuery {
  /** Free text; '' lists everything visible. */
  text: string;
  access: AccessFilter;
  /** Only repositories of this namespace ('' for one-component names). */
  namespace?: string;
  /** Only official (true) or only non-official (false) repositories. */
  official?: boolean;
  minStars?: number;
  sort: SearchSort;
  offset: number;
  limit: number;
}

export interface RepositorySummary {
  name: string;
  namespace: string;
  /** The short description (plain text, one line). */
  description: string;
  starCount: number;
  pullCount: number;
  /** `library/*` and one-component names. */
  isOfficial: boolean;
  /** Built by berth's build triggers (not yet: always false). */
  isAutomated: boolean;
  /** Last push, tag move or delete, ms since epoch (MetaStore.repositoryTimes's updatedAt). */
  updatedAt: number;
  /** As set for the repository; null when none is recorded (the registry's default applies). */
  visibility: Visibility | null;
}

export interface RepositoryDetails extends RepositorySummary {
  /** Markdown. */
  fullDescription: string;
  /** Whether the asking user starred it (false for anonymous callers). */
  starred: boolean;
}

export interface SearchResult {
  /** How many repositories match (visible to the caller), for num_results / num_pages. */
  total: number;
  hits: RepositorySummary[];
}

export interface DescriptionChange {
  description?: string;
  fullDescription?: string;
}

export interface SearchIndex {
  search(query: SearchQuery): Promise<SearchResult>;
  /** Details of a repository holding at least one manifest; undefined otherwise. `user` for the starred flag. */
  details(name: string, user?: string): Promise<RepositoryDetails | undefined>;
  /** Change descriptions; false when the repository does not exist. */
  describe(name: string, change: DescriptionChange): Promise<boolean>;
  /** Star (true) or unstar (false) for a user; idempotent. Returns the new star count, undefined when the repository does not exist. */
  star(name: string, user: string, on: boolean): Promise<number | undefined>;
  /** Add pull counts collected in memory (one write for many pulls). */
  addPulls(counts: ReadonlyMap<string, number>): Promise<void>;
  /** A user's starred repositories (for the UI); removed with the user is not required. */
  starredBy(user: string): Promise<string[]>;
}

/** The namespace of a repository name: the first component, '' for a one-component name. */
export function namespaceOf(name: string): string {
  const slash = name.indexOf('/');
  return slash === -1 ? '' : name.slice(0, slash);
}

/** Official images: one-component names and `library/*` (which admins own). */
export function isOfficialName(name: string): boolean {
  const ns = namespaceOf(name);
  return ns === '' || ns === 'library';
}

/** Short descriptions are one line, like Docker Hub's (100 characters there; 200 here). */
export const MAX_DESCRIPTION = 200;
/** Full descriptions (Markdown), 25,000 characters as on Docker Hub. */
export const MAX_FULL_DESCRIPTION = 25_000;
