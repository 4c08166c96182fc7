/**
 * Quotas in bytes per namespace (a user's or an organisation's first name component; one-component
 * names count under `library`), counted as storage usage counts them: the distinct blobs linked to
 * the namespace's repositories, manifests included (meta/storage-usage.ts, namespaceUsage). The
 * config gives a default and per-namespace limits (`access.quota`); administrators override a
 * namespace's limit through /api/v1, kept in the settings store under `quota/<namespace>`. A limit
 * of 0 is no limit.
 *
 * Enforced as a ContentGuard (policy.ts) when a blob would be linked (an upload's end, a mount) and
 * before a manifest is recorded: refused when the namespace does not hold the blob yet and its
 * bytes would pass the limit. A blob the namespace already links adds nothing and always passes.
 * Concurrent pushes are each checked against the usage before them, so together they may pass the
 * limit by what was in flight; every push after that is refused.
 */
import { formatSize } from '../config/size.ts';
import type { SettingsStore } from '../meta/settings.ts';
import { usageNamespaceOf, type StorageUsageStore } from '../meta/storage-usage.ts';
import type { BlobRecord } from '../meta/store.ts';
import { QuotaExceededError } from './errors.ts';
import type { ContentGuard } from './policy.ts';

export interface QuotaConfig {
  /** Bytes per namespace without a limit of its own; 0: none. */
  default: number;
  /** Bytes per namespace named here; 0: none. */
  namespaces: Readonly<Record<string, number>>;
}

export interface NamespaceQuota {
  namespace: string;
  /** Bytes the namespace holds now. */
  used: number;
  /** Its limit in bytes; 0: none. */
  limit: number;
  /** Where the limit comes from. */
  source: 'default' | 'config' | 'api';
  /** The limit the config gives it (default or its own), which an administrator's override replaces. */
  configLimit: number;
  updatedBy: string | null;
  updatedAt: number | null;
}

const PREFIX = 'quota/';

export class Quotas implements ContentGuard {
  constructor(
    private readonly config: QuotaConfig,
    private readonly settings: SettingsStore | undefined,
    private readonly usage: Pick<StorageUsageStore, 'namespaceUsage'>,
  ) {}

  /** The namespace's limit, its usage and where the limit comes from. */
  async of(namespace: string): Promise<NamespaceQuota> {
    const [limit, usage] = await Promise.all([this.limitOf(namespace), this.usage.namespaceUsage(namespace)]);
    return { namespace, used: usage.bytes, ...limit };
  }

  /** Limits administrators set, by namespace. */
  async overrides(): Promise<NamespaceQuota[]> {
    const namespaces = (await this.settings?.list(PREFIX)) ?? [];
    return Promise.all(namespaces.map((s) => this.of(s.key.slice(PREFIX.length))));
  }

  /** Set a namespace's limit (bytes, 0: none), replacing the config's. */
  async setLimit(namespace: string, bytes: number, by: string): Promise<NamespaceQuota> {
    await this.required().put(PREFIX + namespace, bytes, by);
    return this.of(namespace);
  }

  /** Remove an administrator's limit: the config's applies again. False when there was none. */
  async resetLimit(namespace: string): Promise<boolean> {
    return this.required().delete(PREFIX + namespace);
  }

  async blobLink(repo: string, blob: BlobRecord): Promise<void> {
    await this.check(repo, blob, 'blob');
  }

  async manifestPut(repo: string, manifest: BlobRecord): Promise<void> {
    await this.check(repo, manifest, 'manifest');
  }

  private async check(repo: string, blob: BlobRecord, kind: 'blob' | 'manifest'): Promise<void> {
    const namespace = usageNamespaceOf(repo);
    const { limit } = await this.limitOf(namespace);
    if (limit === 0) return;
    const { bytes: used, links } = await this.usage.namespaceUsage(namespace, blob.digest);
    if (links || used + blob.size <= limit) return;
    throw new QuotaExceededError(
      `namespace ${namespace} is over its quota: it holds ${formatSize(used)} of ${formatSize(limit)} (${used} of ${limit} bytes), and this ${kind} adds ${blob.size}`,
      { namespace, used, limit, size: blob.size },
    );
  }

  private async limitOf(namespace: string): Promise<Omit<NamespaceQuota, 'namespace' | 'used'>> {
    const own = Object.hasOwn(this.config.namespaces, namespace) ? this.config.namespaces[namespace] : undefined;
    const configLimit = own ?? this.config.default;
    const set = await this.settings?.get(PREFIX + namespace);
    if (set !== undefined && typeof set.value === 'number') {
      return { limit: set.value, source: 'api', configLimit, updatedBy: set.updatedBy, updatedAt: set.updatedAt };
    }
    return { limit: configLimit, source: own === undefined ? 'default' : 'config', configLimit, updatedBy: null, updatedAt: null };
  }

  private required(): SettingsStore {
    if (this.settings === undefined) throw new Error('this registry keeps no settings: quotas come from the config alone');
    return this.settings;
  }
}
