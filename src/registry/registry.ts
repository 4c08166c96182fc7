/** The registry domain, composed: blobs, uploads and manifests over one driver and one meta store. */
import type { MetaChanges } from '../meta/changes.ts';
import type { MetaStore } from '../meta/store.ts';
import type { UploadStateStore } from '../meta/upload-state.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { BlobService, type BlobStore } from './blobs.ts';
import { ManifestService, type ManifestStore } from './manifests.ts';
import { RegistryPolicy, type RegistryPolicyOptions } from './policy.ts';
import { UploadService } from './uploads.ts';
import { BlobJournal, type BlobJournalOptions } from './blob-journal.ts';
import type { Logger } from 'pino';
import type { CacheObserver } from './cache-observer.ts';
import { ManifestInspector } from './inspector.ts';
import { ContentReferencedError, ManifestUnknownError, NameUnknownError } from './errors.ts';

export interface RegistryOptions extends RegistryPolicyOptions {
  driver: StorageDriver;
  meta: MetaStore;
  log?: Logger;
  journal?: BlobJournalOptions;
  /** Chunked uploads' hash state shared by the nodes of a cluster (UploadServiceOptions.state); none on a single node. */
  uploadState?: UploadStateStore;
  /**
   * Other nodes' changes to a shared meta store (PostgreSQL): tags are then never cached, and
   * cached digests and blob links are forgotten as the changes are announced.
   */
  changes?: MetaChanges;
  /** Told of every lookup in the in-process caches (for metrics). */
  onCacheLookup?: CacheObserver;
  /** Decorates the local services (a pull-through cache, src/proxy; notification events, src/events/emitting-stores.ts). */
  decorate?: (local: LocalServices) => { blobs: BlobStore; manifests: ManifestStore; uploads?: UploadStore };
}

/** What the HTTP handlers use of uploads: the local UploadService, or a decoration of it. */
export type UploadStore = Pick<UploadService, 'start' | 'status' | 'append' | 'finish' | 'cancel' | 'purge'>;

/** The registry's own services over its storage, before any decoration. */
export interface LocalServices {
  blobs: BlobService;
  manifests: ManifestService;
  uploads: UploadService;
  meta: MetaStore;
}

export class Registry {
  readonly policy: RegistryPolicy;
  /** What the HTTP handlers serve: the local services, or their decoration. */
  readonly blobs: BlobStore;
  readonly manifests: ManifestStore;
  readonly uploads: UploadStore;
  readonly local: LocalServices;
  readonly journal: BlobJournal;
  /** Tags and manifests in detail, for the web UI (reads what is stored here, never an upstream). */
  readonly inspector: ManifestInspector;
  readonly meta: MetaStore;
  readonly driver: StorageDriver;

  private unsubscribe: (() => void) | undefined;

  /** Before serving: restore what a crash lost from the blob journal, and hear other nodes' changes. */
  async open(): Promise<void> {
    await this.journal.recover();
    this.unsubscribe = await this.changes?.subscribe((repo) => {
      this.local.manifests.invalidate(repo);
      this.local.blobs.invalidate(repo);
    });
  }

  /** Flush the journal; the meta store and driver are closed by their owner. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.journal.close();
  }

  private readonly changes: MetaChanges | undefined;

  constructor(opts: RegistryOptions) {
    this.changes = opts.changes;
    this.driver = opts.driver;
    this.meta = opts.meta;
    this.policy = new RegistryPolicy(opts);
    this.journal = new BlobJournal(opts.driver, opts.meta, opts.log, opts.journal);
    const uploads = new UploadService(opts.driver, opts.meta, this.policy, this.journal, { state: opts.uploadState });
    this.local = {
      blobs: new BlobService(opts.driver, opts.meta, this.policy, opts.onCacheLookup),
      manifests: new ManifestService(opts.driver, opts.meta, this.policy, opts.onCacheLookup, undefined, opts.changes === undefined),
      uploads,
      meta: opts.meta,
    };
    const served = opts.decorate?.(this.local) ?? this.local;
    this.blobs = served.blobs;
    this.manifests = served.manifests;
    this.uploads = served.uploads ?? uploads;
    this.inspector = new ManifestInspector({ manifests: this.local.manifests, blobs: this.local.blobs, meta: opts.meta });
  }

  /**
   * Delete every manifest of a repository with its tags, each through the served manifest store as
   * DELETE /v2/<name>/manifests/<digest> does (deletes must be enabled; caches and the search index
   * follow), yielding each digest once deleted. Blobs stay linked until garbage collection frees
   * them. NameUnknownError when the repository holds no manifest. `manifests`: the served store
   * as the caller's (events/emitting-stores.ts causedBy), so that the delete events name it.
   */
  async *deleteRepository(repo: string, manifests: ManifestStore = this.manifests): AsyncGenerator<string> {
    this.policy.assertDeletable();
    const digests = await this.meta.listManifests(repo);
    if (digests.length === 0) throw new NameUnknownError(repo);
    // Refused before anything goes when a guard holds one of them (a tag an immutability rule covers).
    for (const digest of digests) await this.policy.checkManifestDelete(repo, { kind: 'digest', digest });
    // An index's children are refused while it exists: they go on a later pass, once it has gone.
    for (let pending = digests; pending.length > 0; ) {
      const held: string[] = [];
      let refusal: ContentReferencedError | undefined;
      for (const digest of pending) {
        try {
          await manifests.delete(repo, digest);
        } catch (err) {
          // Deleted meanwhile by another request: gone all the same.
          if (err instanceof ManifestUnknownError) continue;
          if (!(err instanceof ContentReferencedError)) throw err;
          held.push(digest);
          refusal = err;
          continue;
        }
        yield digest;
      }
      // no progress: an index pushed meanwhile holds them
      if (refusal !== undefined && held.length === pending.length) throw refusal;
      pending = held;
    }
  }
}
