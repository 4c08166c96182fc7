/**
 * Blobs as a repository sees them: content-addressed bytes in storage, linked to repositories in
 * the meta store. A blob is served only once its bytes are committed and its digest verified.
 */
import type { Readable } from 'node:stream';
import { RepoCache } from './repo-cache.ts';
import { ExternalChangesWatch } from './external-changes.ts';
import { StillReferencedError, type MetaStore, type BlobRecord } from '../meta/store.ts';
import { PathNotFoundError, pathExists, type OpenFile, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath } from '../storage/paths.ts';
import { BlobUnknownError, ContentReferencedError } from './errors.ts';
import { parseDigest } from './reference.ts';
import type { RegistryPolicy } from './policy.ts';
import type { CacheObserver } from './cache-observer.ts';

export interface BlobRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** A byte range of a blob's local file, open for sending. */
export interface BlobFile {
  fd: number;
  offset: number;
  length: number;
  close(): Promise<void>;
}

export interface OpenedBlob extends BlobRecord {
  stream: Readable;
}

/**
 * What the HTTP handlers use of blobs: the local BlobService, or a pull-through decorator of it
 * (src/proxy) that fetches what a mirrored repository lacks from its upstream.
 */
export interface BlobStore {
  stat(repo: string, digest: string): Promise<BlobRecord>;
  /** Open a blob as stat returned it (a decorator may recognise its own records). */
  open(blob: BlobRecord, range?: BlobRange): Promise<OpenedBlob>;
  openFile(blob: BlobRecord, range?: BlobRange): Promise<BlobFile | undefined>;
  /** A URL the client may fetch the blob (as stat returned it) from directly, if storage has one. */
  redirectURL(blob: BlobRecord, method: 'GET' | 'HEAD'): Promise<string | undefined>;
  mount(repo: string, digest: string, from?: string): Promise<BlobRecord | undefined>;
  delete(repo: string, digest: string): Promise<void>;
  bytesPresent(digest: string): Promise<boolean>;
}

/** How long a blob's link to a repository is trusted without asking the meta store again. */
const LINK_TTL_MS = 5_000;

export class BlobService implements BlobStore {
  /**
   * repository, digest -> blob, for HEAD and GET; unlinking through this service, another node
   * (invalidate) or another process on the same SQLite database (the berth CLI: repo delete, gc)
   * forgets it.
   */
  private readonly links = new RepoCache<BlobRecord>(100_000, LINK_TTL_MS);
  private readonly external: ExternalChangesWatch;

  constructor(
    private readonly driver: StorageDriver,
    private readonly meta: MetaStore,
    private readonly policy: RegistryPolicy,
    private readonly onCacheLookup?: CacheObserver,
  ) {
    this.external = new ExternalChangesWatch(meta, () => this.links.clear());
  }

  /** The blob as linked to this repository; BlobUnknownError when it is not. */
  async stat(repo: string, digest: string): Promise<BlobRecord> {
    this.external.check();
    const cached = this.links.get(repo, digest);
    this.onCacheLookup?.('blob-links', cached !== undefined);
    if (cached !== undefined) return cached;
    parseDigest(digest);
    const generation = this.links.generation(repo);
    const blob = await this.meta.getRepositoryBlob(repo, digest);
    if (blob === undefined) throw new BlobUnknownError(digest);
    this.links.set(repo, digest, blob, generation);
    return blob;
  }

  /** A stream of a blob's bytes (as returned by stat), whole or a range within it. */
  async open(blob: BlobRecord, range?: BlobRange): Promise<OpenedBlob> {
    const { digest } = blob;
    const { algorithm, hex } = parseDigest(digest);
    try {
      const opts = range === undefined ? undefined : { offset: range.start, end: range.end };
      const stream = await this.driver.reader(blobDataPath(algorithm, hex), opts);
      return { ...blob, stream };
    } catch (e) {
      if (e instanceof PathNotFoundError) throw new BlobUnknownError(digest);
      throw e;
    }
  }

  /**
   * The blob's file for zero-copy sending, with the byte range to send, or undefined when storage
   * keeps no local files (then open() streams it).
   */
  async openFile(blob: BlobRecord, range?: BlobRange): Promise<BlobFile | undefined> {
    const { algorithm, hex } = parseDigest(blob.digest);
    let file: OpenFile | undefined;
    try {
      file = await this.driver.openFile(blobDataPath(algorithm, hex));
    } catch (e) {
      if (e instanceof PathNotFoundError) throw new BlobUnknownError(blob.digest);
      throw e;
    }
    if (file === undefined) return undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? blob.size - 1;
    if (file.size !== blob.size) {
      await file.close();
      throw new Error(`stored blob ${blob.digest} has ${file.size} bytes, ${blob.size} recorded`);
    }
    return { fd: file.fd, offset: start, length: end - start + 1, close: () => file.close() };
  }

  /** A URL the client may fetch the blob from directly (object storage), if the driver has one. */
  async redirectURL(blob: BlobRecord, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    const { algorithm, hex } = parseDigest(blob.digest);
    return this.driver.redirectURL(blobDataPath(algorithm, hex), method);
  }

  /**
   * Link an existing blob into a repository (cross-repository mount). With `from`, the blob must
   * be linked to that repository; without it, anywhere in the registry. Returns undefined when
   * the blob is not there to mount, so that the caller starts a normal upload instead.
   */
  async mount(repo: string, digest: string, from?: string): Promise<BlobRecord | undefined> {
    this.policy.assertWritable();
    parseDigest(digest);
    const blob = from === undefined ? await this.meta.findLinkedBlob(digest) : await this.meta.getRepositoryBlob(from, digest);
    if (blob === undefined) return undefined;
    if (!(await this.bytesPresent(digest))) return undefined;
    await this.policy.checkBlobLink(repo, blob);
    // linked only if still recorded: garbage collection may have marked it since the lookup
    return this.meta.linkExisting(repo, digest);
  }

  /** Another node changed the repository's links ('*': anything): forget what is cached of it. */
  invalidate(repo: string): void {
    if (repo === '*') this.links.clear();
    else this.links.invalidate(repo);
  }

  /**
   * Unlink a blob from a repository; its bytes go when garbage collection finds them unreferenced.
   * Refused (ContentReferencedError) while a manifest of the repository references it: the
   * manifest would be unpullable, and the bytes, kept for it, would no longer count in the quota.
   */
  async delete(repo: string, digest: string): Promise<void> {
    this.policy.assertDeletable();
    parseDigest(digest);
    this.links.delete(repo, digest);
    let gone: boolean;
    try {
      gone = await this.meta.unlinkBlob(repo, digest);
    } catch (err) {
      if (err instanceof StillReferencedError) throw new ContentReferencedError(digest, 'blob', err.by);
      throw err;
    }
    if (!gone) throw new BlobUnknownError(digest);
  }

  async bytesPresent(digest: string): Promise<boolean> {
    const { algorithm, hex } = parseDigest(digest);
    return pathExists(this.driver, blobDataPath(algorithm, hex));
  }
}
