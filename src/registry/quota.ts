/**
 * Quotas in bytes per namespace (a user's or an organisation's first name component; one-component
 * names count under `library`), counted as storage usage counts them: the distinct blobs linked to
 * the namespace's repositories, manifests included (meta/storage-usage.ts, namespaceUsage). The
 * config gives a default and per-namespace limits (`access.quota`); administrators override a
 * namespace's limit through /api/v1, kept in the settings store under `quota/<namespace>`. A limit
 * of 0 is no limit.
 *
 * Enforced as a ContentGuard (policy.ts) when a blob would be linked (an upload's end, a mount) and
 * before a manifest is recorded: refused when the namespace does not hold the blob yet (one index
 * lookup) and its bytes would pass the limit. A blob the namespace already links adds nothing and
 * always passes.
 *
 * A namespace's bytes are a few rows of counters the meta store's triggers keep (before, a query over
 * its links: 1.7 s on SQLite for 1,000,000); each node still keeps them for `ttlMs` (10 s), adds
 * what it admits meanwhile, and asks again after. So deletes and garbage collection count after at
 * most ttlMs, and pushes through other nodes (or running at the same moment) may pass the limit by
 * what they added within that time; every push after that is refused. Limited namespaces only:
 * without a limit nothing is counted.
 */
import { formatSize } from '../config/size.ts';
import type { SettingsStore } from '../meta/settings.ts';
import { usageNamespaceOf, type StorageUsageStore } from '../meta/storage-usage.ts';
import type { BlobRecord } from '../meta/store.ts';
import { QuotaExceededError } from './errors.ts';
import type { ContentGuard } from './policy.ts';
import { isValidName } from './reference.ts';

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

/**
 * Why `name` is not a namespace a limit can be set for (one repository name component; at most
 * 150 characters, as a limit is kept under a settings key of at most 200), or undefined.
 */
export function namespaceProblem(name: string): string | undefined {
  return name.length > 150 || name.includes('/') || !isValidName(name) ? `${JSON.stringify(name.slice(0, 100))} is not a namespace` : undefined;
}

export interface QuotaOptions {
  /** How long a namespace's bytes are reused before they are counted again (ms); 10 s. */
  ttlMs?: number;
  now?: () => number;
}

interface Counted {
  bytes: number;
  at: number;
}

export class Quotas implements ContentGuard {
  /** Namespaces' bytes as last counted, plus what was admitted since. */
  private readonly counted = new Map<string, Counted>();
  /** Counts under way, shared by the checks that wait for them. */
  private readonly counting = new Map<string, Promise<Counted>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly config: QuotaConfig,
    private readonly settings: SettingsStore | undefined,
    private readonly usage: Pick<StorageUsageStore, 'namespaceUsage' | 'namespaceLinks'>,
    opts: QuotaOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The namespace's limit, its usage (counted now) and where the limit comes from. */
  async of(namespace: string): Promise<NamespaceQuota> {
    const [limit, used] = await Promise.all([this.limitOf(namespace), this.count(namespace)]);
    return { namespace, used: used.bytes, ...limit };
  }

  /**
   * Every namespace with a limit of its own (the config's per-namespace limits, administrators'
   * overrides) and every one of `holding` (those holding content, under the default), by name.
   */
  async list(holding: Iterable<string>): Promise<NamespaceQuota[]> {
    const names = new Set([...Object.keys(this.config.namespaces), ...holding]);
    for (const s of (await this.settings?.list(PREFIX)) ?? []) names.add(s.key.slice(PREFIX.length));
    return Promise.all([...names].sort().map((n) => this.of(n)));
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
    if (limit === 0) {
      // what passes now is not counted: a limit set again (from none) counts the namespace afresh
      this.counted.delete(namespace);
      return;
    }
    if (await this.usage.namespaceLinks(namespace, blob.digest)) return;
    const counted = await this.recent(namespace);
    const used = counted.bytes;
    if (used + blob.size <= limit) {
      counted.bytes += blob.size;
      return;
    }
    throw new QuotaExceededError(
      `namespace ${namespace} is over its quota: it holds ${formatSize(used)} of ${formatSize(limit)} (${used} of ${limit} bytes), and this ${kind} adds ${blob.size}`,
      { namespace, used, limit, size: blob.size },
    );
  }

  /** The namespace's bytes counted within ttlMs (plus what was admitted since), else counted now. */
  private async recent(namespace: string): Promise<Counted> {
    const known = this.counted.get(namespace);
    if (known !== undefined && this.now() - known.at < this.ttlMs) return known;
    return this.count(namespace);
  }

  /** Count the namespace's bytes now (one count at a time per namespace), and keep them. */
  private count(namespace: string): Promise<Counted> {
    let pending = this.counting.get(namespace);
    if (pending === undefined) {
      const at = this.now();
      pending = this.usage
        .namespaceUsage(namespace)
        .then((bytes) => {
          const counted = { bytes, at };
          if (this.counted.size >= 10_000) this.counted.clear(); // a bound: counts are only a cache
          this.counted.set(namespace, counted);
          return counted;
        })
        .finally(() => this.counting.delete(namespace));
      this.counting.set(namespace, pending);
    }
    return pending;
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
