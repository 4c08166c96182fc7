/**
 * Manifests of a repository: push with validation of every reference, pull by tag or digest,
 * delete, tags, catalog and referrers. Manifest bytes are stored as content-addressed blobs and
 * kept in a bounded in-memory cache, since manifest GET is the registry's hottest request.
 */
import type { AccessFilter } from '../auth/visibility.ts';
import { LRUCache } from 'lru-cache';
import { MissingReferenceError, StillReferencedError, type BlobRecord, type ManifestRecord, type MetaStore, type Page, type PutManifestOptions } from '../meta/store.ts';
import type { GcRules } from '../meta/gc.ts';
import { withBlobWrite } from './blob-writes.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { blobDataPath } from '../storage/paths.ts';
import { digestOf } from './digest.ts';
import {
  ContentReferencedError,
  DigestInvalidError,
  ManifestBlobUnknownError,
  ManifestInvalidError,
  ManifestTooLargeError,
  ManifestUnknownError,
  NameUnknownError,
} from './errors.ts';
import { parseManifest, type ParsedManifest } from './manifest-parse.ts';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, OCI_INDEX } from './media-types.ts';
import { parseDigest, parseReference } from './reference.ts';
import type { RegistryPolicy } from './policy.ts';
import type { CacheObserver } from './cache-observer.ts';
import { RepoCache } from './repo-cache.ts';
import { ExternalChangesWatch } from './external-changes.ts';

/** How long a resolved tag or digest is trusted without asking the meta store again. */
export const RECORD_TTL_MS = 5_000;

/** The largest manifest accepted, as distribution and the OCI spec's guidance: 4 MiB. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

export interface StoredManifest {
  record: ManifestRecord;
  content: Buffer;
}

export interface PushedManifest {
  digest: string;
  /** The subject's digest when the manifest has one (the OCI-Subject header). */
  subject: string | null;
}

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    artifactType?: string;
    annotations?: Record<string, string>;
  }[];
}

export interface ManifestDeleteOptions {
  /** Delete only if these rules collect the manifest, judged in the delete's transaction (MetaStore.deleteManifest). */
  collectable?: GcRules;
}

/**
 * What the HTTP handlers use of manifests: the local ManifestService, or a pull-through decorator
 * of it (src/proxy) for mirrored repositories.
 */
export interface ManifestStore {
  put(repo: string, reference: string, content: Buffer, contentType: string | undefined): Promise<PushedManifest>;
  stat(repo: string, reference: string): Promise<ManifestRecord>;
  get(repo: string, reference: string): Promise<StoredManifest>;
  getAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<StoredManifest>;
  statAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<ManifestRecord>;
  /** With `opts.collectable`, a manifest (by digest) goes only if garbage collection's rules collect it: ManifestUnknownError otherwise. */
  delete(repo: string, reference: string, opts?: ManifestDeleteOptions): Promise<void>;
  tags(repo: string, page: Page): Promise<string[]>;
  /** Repositories in name order; with `visible`, only those it lets the caller pull. */
  catalog(page: Page, visible?: AccessFilter): Promise<string[]>;
  referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersIndex>;
}

/**
 * For a client that accepts image manifests but not the index type it asked for (an old docker):
 * the digest of the index's linux/amd64 image to serve instead, as distribution does; undefined
 * when the stored manifest is to be served as it is.
 */
export function platformSubstitute(stored: StoredManifest, accepted: ReadonlySet<string>): string | undefined {
  const { record } = stored;
  if (!INDEX_TYPES.has(record.mediaType) || accepted.size === 0 || accepted.has(record.mediaType) || accepted.has('*/*')) {
    return undefined;
  }
  if (![...IMAGE_MANIFEST_TYPES].some((t) => accepted.has(t))) return undefined;
  return parseManifest(stored.content, record.mediaType).children.find(
    (c) => c.platform?.os === 'linux' && c.platform.architecture === 'amd64' && accepted.has(c.mediaType),
  )?.digest;
}

export class ManifestService implements ManifestStore {
  private readonly cache: LRUCache<string, Buffer>;
  /**
   * Resolved references (tags and digests) per repository -> record, the other half of the hot GET.
   * Writes through this service invalidate it, other nodes' writes through invalidate(); the TTL
   * bounds staleness should another process share the meta store unannounced. With a shared
   * database, tags are not cached at all: a tag moved on one node must be read at once on every
   * other, before any notice of it could arrive.
   */
  private readonly records = new RepoCache<ManifestRecord>(50_000, RECORD_TTL_MS);
  /** Forgets the resolved references when another process (the berth CLI on SQLite) commits to the meta store. */
  private readonly external: ExternalChangesWatch;

  constructor(
    private readonly driver: StorageDriver,
    private readonly meta: MetaStore,
    private readonly policy: RegistryPolicy,
    private readonly onCacheLookup?: CacheObserver,
    cacheBytes = 64 * 1024 * 1024,
    /** False when other nodes share the meta store: tags are then always resolved in the store. */
    private readonly cacheTags = true,
  ) {
    this.cache = new LRUCache<string, Buffer>({ maxSize: cacheBytes, sizeCalculation: (b) => Math.max(1, b.length) });
    this.external = new ExternalChangesWatch(meta, () => this.records.clear());
  }

  async put(repo: string, reference: string, content: Buffer, contentType: string | undefined): Promise<PushedManifest> {
    this.policy.assertWritable();
    if (content.length > MANIFEST_SIZE_LIMIT) throw new ManifestTooLargeError(MANIFEST_SIZE_LIMIT);
    const ref = parseReference(reference);
    const parsed = parseManifest(content, contentType);
    const algorithm = ref.kind === 'digest' ? parseDigest(ref.digest).algorithm : 'sha256';
    const digest = digestOf(content, algorithm);
    if (ref.kind === 'digest' && ref.digest !== digest) {
      throw new DigestInvalidError('manifest digest does not match the reference', { expected: ref.digest, actual: digest });
    }
    for (const blob of parsed.blobs) {
      const known = await this.meta.getRepositoryBlob(repo, blob.digest);
      if (known === undefined) throw new ManifestBlobUnknownError(blob.digest, 'blob');
      if (known.size !== blob.size) {
        throw new ManifestInvalidError(`descriptor size ${blob.size} does not match blob ${blob.digest} (${known.size} bytes)`);
      }
    }
    for (const child of parsed.children) {
      if ((await this.meta.getManifest(repo, child.digest)) === undefined) throw new ManifestBlobUnknownError(child.digest, 'manifest');
    }
    await this.policy.checkManifestPut(repo, { digest, size: content.length }, ref.kind === 'tag' ? ref.tag : undefined);
    try {
      await this.store(repo, digest, content, parsed, ref.kind === 'tag' ? ref.tag : undefined, true);
    } catch (err) {
      // collected between the checks above and the record's transaction, which checks again
      if (err instanceof MissingReferenceError) throw new ManifestBlobUnknownError(err.digest, err.kind);
      throw err;
    }
    return { digest, subject: parsed.subject?.digest ?? null };
  }

  /**
   * Store a manifest fetched from a mirror's upstream, with its tag. Unlike put(), the blobs and
   * child manifests it references need not be here: a pull-through cache fetches them when they
   * are asked for (an index does not pull every platform). The digest is computed here. Returns
   * the record and the blobs it references, with their sizes.
   */
  async storeFetched(repo: string, content: Buffer, mediaType: string, tag?: string): Promise<{ record: ManifestRecord; blobs: BlobRecord[] }> {
    if (content.length > MANIFEST_SIZE_LIMIT) throw new ManifestTooLargeError(MANIFEST_SIZE_LIMIT);
    const parsed = parseManifest(content, mediaType);
    const record = await this.store(repo, digestOf(content), content, parsed, tag);
    return { record, blobs: parsed.blobs.map((b) => ({ digest: b.digest, size: b.size })) };
  }

  /** Write the checked manifest's bytes, then record it (and the tag) in the meta store. */
  private async store(repo: string, digest: string, content: Buffer, parsed: ParsedManifest, tag: string | undefined, verifyReferences = false): Promise<ManifestRecord> {
    const { algorithm, hex } = parseDigest(digest);
    const record = await withBlobWrite(this.meta, digest, async (writeToken) => {
      // Written even when a file is there: it may be a copy a power cut tore before it was linked.
      await this.driver.putContent(blobDataPath(algorithm, hex), content);
      return this.record(repo, digest, content, parsed, tag, { writeToken, verifyReferences });
    });
    this.cache.set(digest, content);
    if (tag !== undefined) this.records.delete(repo, tag);
    return record;
  }

  private async record(repo: string, digest: string, content: Buffer, parsed: ParsedManifest, tag: string | undefined, opts: PutManifestOptions): Promise<ManifestRecord> {
    const record: ManifestRecord = {
      digest,
      mediaType: parsed.mediaType,
      size: content.length,
      artifactType: parsed.artifactType,
      subject: parsed.subject?.digest ?? null,
      annotations: parsed.annotations,
      createdAt: Date.now(),
    };
    await this.meta.putManifest(
      repo,
      { ...record, blobs: parsed.blobs.map((b) => b.digest), children: parsed.children.map((c) => c.digest) },
      tag,
      opts,
    );
    return record;
  }

  /**
   * The hot GET without a promise per step: the record and the bytes when both are in memory,
   * as stat() and content() would find them (and count them as hits); undefined otherwise.
   */
  private cached(repo: string, reference: string): StoredManifest | undefined {
    const ref = parseReference(reference);
    if (ref.kind === 'tag' && !this.cacheTags) return undefined;
    this.external.check();
    const record = this.records.get(repo, reference);
    if (record === undefined) return undefined;
    const content = this.cache.get(record.digest);
    if (content === undefined) return undefined;
    this.onCacheLookup?.('manifest-records', true);
    this.onCacheLookup?.('manifest-bytes', true);
    return { record, content };
  }

  /** The manifest's record without its bytes (HEAD). */
  async stat(repo: string, reference: string): Promise<ManifestRecord> {
    const ref = parseReference(reference);
    const cacheable = ref.kind === 'digest' || this.cacheTags;
    if (cacheable) this.external.check();
    const cached = cacheable ? this.records.get(repo, reference) : undefined;
    this.onCacheLookup?.('manifest-records', cached !== undefined);
    if (cached !== undefined) return cached;
    const generation = this.records.generation(repo);
    const record =
      ref.kind === 'tag' ? await this.meta.resolveTag(repo, ref.tag) : await this.meta.getManifest(repo, ref.digest);
    if (record !== undefined && cacheable) this.records.set(repo, reference, record, generation);
    if (record === undefined) throw new ManifestUnknownError(reference);
    return record;
  }

  async get(repo: string, reference: string): Promise<StoredManifest> {
    const record = await this.stat(repo, reference);
    return { record, content: await this.content(record.digest) };
  }

  /**
   * The manifest a client gets for `reference` given the media types it accepts (empty: any).
   * An index or manifest list is served as stored, unless the client accepts image manifests but
   * not that index type (an old docker): it then gets the index's linux/amd64 image, as
   * distribution does.
   */
  async getAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<StoredManifest> {
    const stored = this.cached(repo, reference) ?? (await this.get(repo, reference));
    const child = platformSubstitute(stored, accepted);
    return child === undefined ? stored : this.get(repo, child);
  }

  /** What getAccepted would serve, without reading an image manifest's bytes (HEAD). */
  async statAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<ManifestRecord> {
    const record = await this.stat(repo, reference);
    if (!INDEX_TYPES.has(record.mediaType)) return record;
    return (await this.getAccepted(repo, reference, accepted)).record;
  }

  async delete(repo: string, reference: string, opts: ManifestDeleteOptions = {}): Promise<void> {
    this.policy.assertDeletable();
    const ref = parseReference(reference);
    await this.policy.checkManifestDelete(repo, ref);
    const gone = ref.kind === 'tag' ? await this.meta.deleteTag(repo, ref.tag) : await this.deleteDigest(repo, ref.digest, opts);
    // Deleting a manifest deletes the tags pointing at it: forget every resolved reference.
    if (ref.kind === 'tag') this.records.delete(repo, ref.tag);
    else this.records.invalidate(repo);
    if (!gone) throw new ManifestUnknownError(reference);
  }

  /** An index's child is refused while the index exists (MetaStore.deleteManifest), as collection keeps it. */
  private async deleteDigest(repo: string, digest: string, opts: ManifestDeleteOptions): Promise<boolean> {
    try {
      return await this.meta.deleteManifest(repo, digest, opts.collectable);
    } catch (err) {
      if (err instanceof StillReferencedError) throw new ContentReferencedError(digest, 'manifest', err.by);
      throw err;
    }
  }

  /** Another node changed the repository ('*': anything): forget what is cached of it. */
  invalidate(repo: string): void {
    if (repo === '*') this.records.clear();
    else this.records.invalidate(repo);
  }

  async tags(repo: string, page: Page): Promise<string[]> {
    const tags = await this.meta.listTags(repo, page);
    if (tags === undefined) throw new NameUnknownError(repo);
    return tags;
  }

  async catalog(page: Page, visible?: AccessFilter): Promise<string[]> {
    return this.meta.listRepositories(page, visible);
  }

  /** The image index of manifests whose subject is `digest`, optionally of one artifactType. */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    parseDigest(digest);
    const records = await this.meta.listReferrers(repo, digest, artifactType);
    return {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: records.map((r) => ({
        mediaType: r.mediaType,
        digest: r.digest,
        size: r.size,
        ...(r.artifactType === null ? {} : { artifactType: r.artifactType }),
        ...(r.annotations === null ? {} : { annotations: r.annotations }),
      })),
    };
  }

  /** The manifest's bytes, verified against its digest before they are cached or served. */
  private async content(digest: string): Promise<Buffer> {
    const cached = this.cache.get(digest);
    this.onCacheLookup?.('manifest-bytes', cached !== undefined);
    if (cached !== undefined) return cached;
    const { algorithm, hex } = parseDigest(digest);
    const content = await this.driver.getContent(blobDataPath(algorithm, hex));
    if (digestOf(content, algorithm) !== digest) throw new Error(`stored manifest ${digest} does not match its digest`);
    this.cache.set(digest, content);
    return content;
  }
}
