/** Search, repositories, tags and manifests. */
import { api, encodeName, type Query } from './client.ts';
import type { ManifestDetail, Repository, SearchPage, TagPage, Visibility } from './types.ts';

export interface SearchParams {
  q?: string;
  namespace?: string;
  official?: boolean;
  stars?: number;
  sort?: 'relevance' | 'stars' | 'pulls' | 'updated';
  page?: number;
  per_page?: number;
}

export function search(params: SearchParams, signal?: AbortSignal): Promise<SearchPage> {
  return api<SearchPage>('/search', { query: params as Query, ...(signal && { signal }) });
}

const repo = (name: string) => `/repositories/${encodeName(name)}`;

export function getRepository(name: string, signal?: AbortSignal): Promise<Repository> {
  return api<Repository>(repo(name), { ...(signal && { signal }) });
}

export interface RepositoryChange {
  visibility?: Visibility;
  description?: string;
  fullDescription?: string;
}

export function patchRepository(name: string, change: RepositoryChange): Promise<Repository> {
  return api<Repository>(repo(name), { method: 'PATCH', body: change });
}

export function deleteRepository(name: string): Promise<void> {
  return api<void>(repo(name), { method: 'DELETE' });
}

export function setStar(name: string, on: boolean): Promise<{ starCount: number; starred: boolean }> {
  return api(`${repo(name)}/_star`, { method: on ? 'PUT' : 'DELETE' });
}

export interface TagQuery {
  q?: string;
  sort?: 'name' | 'pushed' | 'size';
  order?: 'asc' | 'desc';
  page?: number;
  per_page?: number;
}

export function listTags(name: string, query: TagQuery, signal?: AbortSignal): Promise<TagPage> {
  return api<TagPage>(`${repo(name)}/_tags`, { query: query as Query, ...(signal && { signal }) });
}

export function deleteTag(name: string, tag: string): Promise<void> {
  return api<void>(`${repo(name)}/_tags/${encodeURIComponent(tag)}`, { method: 'DELETE' });
}

export function getManifest(name: string, reference: string, signal?: AbortSignal): Promise<ManifestDetail> {
  return api<ManifestDetail>(`${repo(name)}/_manifests/${encodeURIComponent(reference)}`, { ...(signal && { signal }) });
}
