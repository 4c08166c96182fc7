/** Namespace quotas and immutable tag rules (docs/ui-api.md, "Immutable tags and quotas"). */
import { api } from './client.ts';

export interface NamespaceQuota {
  namespace: string;
  /** Bytes held now. */
  used: number;
  /** Bytes allowed; 0: no limit. */
  limit: number;
  source: 'default' | 'config' | 'api';
  configLimit: number;
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface ImmutableRule {
  repository: string;
  tags: string[];
  source: 'config' | 'api';
  disabled: boolean;
  configTags: string[] | null;
  updatedBy: string | null;
  updatedAt: string | null;
}

const quotaPath = (namespace: string) => `/namespaces/${encodeURIComponent(namespace)}/quota`;

export function getQuota(namespace: string, signal?: AbortSignal): Promise<NamespaceQuota> {
  return api<NamespaceQuota>(quotaPath(namespace), { ...(signal && { signal }) });
}

/** `limit`: bytes, or a size with a unit ("100GiB"); 0 for none. */
export function setQuota(namespace: string, limit: string | number): Promise<NamespaceQuota> {
  return api<NamespaceQuota>(quotaPath(namespace), { method: 'PUT', body: { limit } });
}

export function resetQuota(namespace: string): Promise<void> {
  return api<void>(quotaPath(namespace), { method: 'DELETE' });
}

export async function listQuotas(signal?: AbortSignal): Promise<NamespaceQuota[]> {
  return (await api<{ namespaces: NamespaceQuota[] }>('/admin/quotas', { ...(signal && { signal }) })).namespaces;
}

export async function listImmutableRules(signal?: AbortSignal): Promise<ImmutableRule[]> {
  return (await api<{ rules: ImmutableRule[] }>('/admin/immutable', { ...(signal && { signal }) })).rules;
}

export function putImmutableRule(repository: string, tags: string[]): Promise<ImmutableRule> {
  return api<ImmutableRule>('/admin/immutable', { method: 'PUT', body: { repository, tags } });
}

export function liftImmutableRule(repository: string): Promise<void> {
  return api<void>('/admin/immutable', { method: 'DELETE', query: { repository } });
}
