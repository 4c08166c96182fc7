/** Retention policies and their dry run (docs/retention.md; the API in docs/ui-api.md). */
import { api, encodeName } from './client.ts';

export interface RetentionPolicy {
  /** A repository name, or a pattern where `*` stands for any characters. */
  repository: string;
  keep: { newest?: number; tags: string[] };
  delete: { notpulledfor?: string; untaggedafter?: string };
}

export interface EffectivePolicy extends RetentionPolicy {
  source: 'config' | 'api';
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface TagDecision {
  tag: string;
  digest: string;
  action: 'keep' | 'delete';
  rule: 'keep.newest' | 'keep.tags' | 'delete.notpulledfor' | 'unkept' | 'none' | 'immutable';
  reason: string;
  pushedAt: string | null;
  pulledAt: string | null;
}

export interface RepositoryPreview {
  repository: string;
  policy: string;
  error: string | null;
  tags: TagDecision[];
  untagged: { digest: string; mediaType: string; size: number; createdAt: string | null; reason: string }[];
}

export interface RepositoryRetention {
  repository: string;
  policy: EffectivePolicy | null;
  mayEdit: boolean;
  at: string;
  preview: RepositoryPreview | null;
}

export function getRepositoryRetention(name: string, signal?: AbortSignal): Promise<RepositoryRetention> {
  return api<RepositoryRetention>(`/repositories/${encodeName(name)}/_retention`, { ...(signal && { signal }) });
}

export function putRetentionPolicy(policy: RetentionPolicy): Promise<EffectivePolicy> {
  return api<EffectivePolicy>('/retention/policies', { method: 'PUT', body: policy });
}

export function deleteRetentionPolicy(pattern: string): Promise<void> {
  return api<void>('/retention/policies', { method: 'DELETE', query: { repository: pattern } });
}

export function listRetentionPolicies(signal?: AbortSignal): Promise<{ policies: EffectivePolicy[] }> {
  return api<{ policies: EffectivePolicy[] }>('/retention/policies', { ...(signal && { signal }) });
}

export interface RetentionPreview {
  at: string;
  deletes: { tags: number; manifests: number };
  repositories: RepositoryPreview[];
}

/** The dry run of the repositories a pattern covers (`acme/*`), for those who may edit its policy. */
export function previewPattern(pattern: string, signal?: AbortSignal): Promise<RetentionPreview> {
  return api<RetentionPreview>('/retention/preview', { query: { pattern }, ...(signal && { signal }) });
}
