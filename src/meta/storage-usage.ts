/**
 * How much storage the registry's content takes, per namespace, now and over time (the admin
 * storage view). Bytes are those of distinct blobs: a layer shared by two repositories of one
 * namespace counts once there, and once in the total however many namespaces link it. Manifests
 * are blobs too. Only linked blobs count: an unlinked one waits for garbage collection.
 * Implementations: sqlite/ and postgres/storage-usage.ts; one suite for all, storage-usage-conformance.ts.
 */
import { namespaceOf } from '../auth/scope.ts';

/** The namespace one-component names (official images) are counted under, as Docker Hub names them. */
export const OFFICIAL_NAMESPACE = 'library';

/** The namespace storage usage counts a repository under: its first component, `library` for a one-component name. */
export function usageNamespaceOf(name: string): string {
  return namespaceOf(name) || OFFICIAL_NAMESPACE;
}

/**
 * Where a digest's shard of its namespace's counters is read (1-based, SQL's substr): the first
 * hex digit of the hash, after `sha256:` (sqlite/usage-schema.ts).
 */
export const USAGE_SHARD_AT = 8;

export interface NamespaceUsage {
  namespace: string;
  /** Sum of the sizes of the distinct blobs linked to the namespace's repositories. */
  bytes: number;
  /** Repositories of the namespace that link at least one blob. */
  repositories: number;
}

export interface StorageUsage {
  /** Distinct blobs linked anywhere in the registry. */
  total: { bytes: number; blobs: number };
  /** Largest first. */
  namespaces: NamespaceUsage[];
}

export interface StorageSample {
  /** When it was taken (ms since epoch). */
  at: number;
  total: number;
  /** Bytes of the namespaces recorded in the sample (the largest ones). */
  namespaces: Record<string, number>;
}

export interface StorageUsageStore {
  /** Usage now, computed from the meta store's tables in one query per figure. */
  usage(): Promise<StorageUsage>;
  /**
   * One namespace's bytes now, as usage() counts them (quotas, registry/quota.ts): at most 16 rows of
   * the counters triggers keep on every link and unlink (sqlite/usage-schema.ts), whatever the
   * namespace holds (a SUM over its links took 1.7 s on SQLite, 6 s on PostgreSQL for 1,000,000).
   */
  namespaceUsage(namespace: string): Promise<number>;
  /** Whether the namespace links the blob already (so that linking it again adds nothing): one row of the counters. */
  namespaceLinks(namespace: string, digest: string): Promise<boolean>;
  /** Record a sample (a second one at the same time replaces it). */
  recordSample(sample: StorageSample): Promise<void>;
  /** Samples taken at or after `since`, oldest first. */
  samples(since: number): Promise<StorageSample[]>;
  /** Forget samples taken before `before`. */
  pruneSamples(before: number): Promise<void>;
}
