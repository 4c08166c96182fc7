/**
 * Notification events from the domain (distribution's notifications/listener.go): a decorator of
 * the stores the registry serves (its BlobStore, ManifestStore and uploads, or the mirror's
 * decoration of them) that tells the EventSink of each change once it has happened, whatever
 * made it: an HTTP request, `berth repo delete`, garbage collection, retention. The cause (request
 * record, actor, target URLs; context.ts) is the one the stores are bound to with causedBy(): the
 * HTTP layer binds them to each request, a system job to its actor; unbound, the actor is `berth`.
 *
 * What emits what:
 * - manifests: put -> push (with the tag the client named); getAccepted (what a client's GET is
 *   served) -> pull; delete -> delete of the tag or of the manifest, only once it happened
 * - blobs: open or openFile of a record stat returned, or a GET redirect to storage -> pull;
 *   mount -> mount (when the blob was mounted); delete -> delete
 * - uploads: finish -> push of the blob
 * - the mirror: a manifest fetched from an upstream and stored -> push with the actor
 *   `berth-mirror` (mirrorFillEmitter); the client's pull of it is a pull, as in distribution.
 *   Blobs fetched from an upstream emit only the client's pull.
 * Reads that serve no client (stat, tags, catalog, referrers, get) emit nothing.
 *
 * The sink never fails a call (sink.ts): the change is made; an enqueue error is logged.
 */
import type { BlobRecord, ManifestRecord, Page } from '../meta/store.ts';
import type { AccessFilter } from '../auth/visibility.ts';
import type { BlobFile, BlobRange, BlobStore, OpenedBlob } from '../registry/blobs.ts';
import { parseManifest } from '../registry/manifest-parse.ts';
import type { ManifestStore, PushedManifest, ReferrersIndex, StoredManifest } from '../registry/manifests.ts';
import { isTag } from '../registry/reference.ts';
import type { LocalServices, UploadStore } from '../registry/registry.ts';
import type { AppendOptions, ChunkRange, FinalChunk, UploadStatus } from '../registry/uploads.ts';
import type { Readable } from 'node:stream';
import { SYSTEM_ACTORS, ambientCause, systemCause, type EventContext } from './context.ts';
import type { EventSink, ManifestTarget } from './sink.ts';

/** The stores the registry serves (RegistryOptions.decorate's result). */
export interface ServedStores {
  blobs: BlobStore;
  manifests: ManifestStore;
  uploads: UploadStore;
}

/**
 * The Registry's `decorate`: the stores `inner` decorates (the mirror), or the local ones, wrapped
 * so that they emit, bound to no cause (causedBy binds them). Deliveries are queued before the
 * call returns, so before any response.
 */
export function emittingDecorator(
  sink: EventSink,
  inner?: (local: LocalServices) => { blobs: BlobStore; manifests: ManifestStore },
): (local: LocalServices) => ServedStores {
  return (local) => {
    const served = inner?.(local) ?? local;
    return {
      blobs: new EmittingBlobs(served.blobs, sink),
      manifests: new EmittingManifests(served.manifests, sink),
      uploads: new EmittingUploads(local.uploads, sink),
    };
  };
}

/** A manifest the mirror fetched from its upstream and stored (MirrorOptions.onManifestFetched). */
export interface FetchedManifest {
  repository: string;
  record: ManifestRecord;
  content: Buffer;
  /** The tag it was fetched by, which now names it here. */
  tag?: string;
}

/** The push event of each mirror fill, with the actor `berth-mirror` (the client's pull follows with its request). */
export function mirrorFillEmitter(sink: EventSink): (fetched: FetchedManifest) => Promise<void> {
  const cause = systemCause(SYSTEM_ACTORS.mirror);
  return async ({ repository, record, content, tag }) => {
    await sink.manifestPushed(manifestTarget(repository, tag ?? record.digest, record, content, cause), cause.request());
  };
}

const UNBOUND = systemCause(SYSTEM_ACTORS.system);

/** The cause of a call made now: the store's own, else asSystem()'s, else `berth`. Read when the call starts, before any await. */
function causeOf(bound: EventContext | undefined): EventContext {
  return bound ?? ambientCause() ?? UNBOUND;
}

/** The store with its changes caused by `cause` (their events name it); a store that does not emit, as it is. */
export function causedBy(store: ManifestStore, cause: EventContext): ManifestStore;
export function causedBy(store: BlobStore, cause: EventContext): BlobStore;
export function causedBy(store: UploadStore, cause: EventContext): UploadStore;
export function causedBy(store: ManifestStore | BlobStore | UploadStore, cause: EventContext): ManifestStore | BlobStore | UploadStore {
  const emitting = store instanceof EmittingManifests || store instanceof EmittingBlobs || store instanceof EmittingUploads;
  return emitting ? store.as(cause) : store;
}

/** A registry's served stores, their changes caused by `cause`. */
export function storesCausedBy(served: ServedStores, cause: EventContext): ServedStores {
  return { blobs: causedBy(served.blobs, cause), manifests: causedBy(served.manifests, cause), uploads: causedBy(served.uploads, cause) };
}

/** A manifest as its events name it: with the tag when the caller named one. */
function manifestTarget(
  repository: string,
  reference: string,
  record: { digest: string; mediaType: string; size: number },
  content: Buffer,
  cause: EventContext,
): ManifestTarget {
  const { digest, mediaType, size } = record;
  const tag = isTag(reference) ? reference : undefined;
  return { repository, digest, mediaType, size, tag, url: cause.urls?.manifest(repository, digest), content };
}

export class EmittingManifests implements ManifestStore {
  constructor(
    private readonly inner: ManifestStore,
    private readonly sink: EventSink,
    private readonly cause?: EventContext,
  ) {}

  /** This store, its changes caused by `cause`. */
  as(cause: EventContext): EmittingManifests {
    return new EmittingManifests(this.inner, this.sink, cause);
  }

  async put(repo: string, reference: string, content: Buffer, contentType: string | undefined): Promise<PushedManifest> {
    const cause = causeOf(this.cause);
    const pushed = await this.inner.put(repo, reference, content, contentType);
    // put() parsed the same bytes: the media type it recorded is the parsed one.
    const record = { digest: pushed.digest, mediaType: parseManifest(content, contentType).mediaType, size: content.length };
    await this.sink.manifestPushed(manifestTarget(repo, reference, record, content, cause), cause.request());
    return pushed;
  }

  stat(repo: string, reference: string): Promise<ManifestRecord> {
    return this.inner.stat(repo, reference);
  }

  get(repo: string, reference: string): Promise<StoredManifest> {
    return this.inner.get(repo, reference);
  }

  async getAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<StoredManifest> {
    const cause = causeOf(this.cause);
    const stored = await this.inner.getAccepted(repo, reference, accepted);
    await this.sink.manifestPulled(manifestTarget(repo, reference, stored.record, stored.content, cause), cause.request());
    return stored;
  }

  statAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<ManifestRecord> {
    return this.inner.statAccepted(repo, reference, accepted);
  }

  /**
   * Every argument goes through (garbage collection's condition); the event once the delete
   * happened. One that did not (nothing to delete, the condition failed) throws, and emits nothing.
   */
  async delete(...args: Parameters<ManifestStore['delete']>): Promise<void> {
    const cause = causeOf(this.cause);
    await this.inner.delete(...args);
    const [repository, reference] = args;
    if (isTag(reference)) await this.sink.tagDeleted({ repository, tag: reference }, cause.request());
    else await this.sink.manifestDeleted({ repository, digest: reference }, cause.request());
  }

  tags(repo: string, page: Page): Promise<string[]> {
    return this.inner.tags(repo, page);
  }

  catalog(page: Page, visible?: AccessFilter): Promise<string[]> {
    return this.inner.catalog(page, visible);
  }

  referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    return this.inner.referrers(repo, digest, artifactType);
  }
}

export class EmittingBlobs implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly sink: EventSink,
    private readonly cause?: EventContext,
    /** The repository each record stat returned was asked for: open() and openFile() are given the record alone. */
    private readonly repositories = new WeakMap<BlobRecord, string>(),
  ) {}

  /** This store, its changes caused by `cause`. */
  as(cause: EventContext): EmittingBlobs {
    return new EmittingBlobs(this.inner, this.sink, cause, this.repositories);
  }

  async stat(repo: string, digest: string): Promise<BlobRecord> {
    const blob = await this.inner.stat(repo, digest);
    // The record itself goes back (a decorator below may recognise it in open()).
    this.repositories.set(blob, repo);
    return blob;
  }

  async open(blob: BlobRecord, range?: BlobRange): Promise<OpenedBlob> {
    const cause = causeOf(this.cause);
    const opened = await this.inner.open(blob, range);
    await this.pulled(blob, cause);
    return opened;
  }

  async openFile(blob: BlobRecord, range?: BlobRange): Promise<BlobFile | undefined> {
    const cause = causeOf(this.cause);
    const file = await this.inner.openFile(blob, range);
    if (file !== undefined) await this.pulled(blob, cause);
    return file;
  }

  async redirectURL(blob: BlobRecord, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    const cause = causeOf(this.cause);
    const url = await this.inner.redirectURL(blob, method);
    if (url !== undefined && method === 'GET') await this.pulled(blob, cause);
    return url;
  }

  async mount(repo: string, digest: string, from?: string): Promise<BlobRecord | undefined> {
    const cause = causeOf(this.cause);
    const blob = await this.inner.mount(repo, digest, from);
    if (blob !== undefined) {
      await this.sink.blobMounted(
        { repository: repo, digest: blob.digest, size: blob.size, url: cause.urls?.blob(repo, blob.digest), fromRepository: from },
        cause.request(),
      );
    }
    return blob;
  }

  async delete(repo: string, digest: string): Promise<void> {
    const cause = causeOf(this.cause);
    await this.inner.delete(repo, digest);
    await this.sink.blobDeleted({ repository: repo, digest }, cause.request());
  }

  bytesPresent(digest: string): Promise<boolean> {
    return this.inner.bytesPresent(digest);
  }

  /** A pull of a record stat returned (one of another store's is served without an event). */
  private async pulled(blob: BlobRecord, cause: EventContext): Promise<void> {
    const repository = this.repositories.get(blob);
    if (repository === undefined) return;
    await this.sink.blobPulled({ repository, digest: blob.digest, size: blob.size, url: cause.urls?.blob(repository, blob.digest) }, cause.request());
  }
}

export class EmittingUploads implements UploadStore {
  constructor(
    private readonly inner: UploadStore,
    private readonly sink: EventSink,
    private readonly cause?: EventContext,
  ) {}

  /** This store, its changes caused by `cause`. */
  as(cause: EventContext): EmittingUploads {
    return new EmittingUploads(this.inner, this.sink, cause);
  }

  start(repo: string): Promise<UploadStatus> {
    return this.inner.start(repo);
  }

  status(repo: string, id: string): Promise<UploadStatus> {
    return this.inner.status(repo, id);
  }

  append(repo: string, id: string, body: Readable, range?: ChunkRange, opts?: AppendOptions): Promise<UploadStatus> {
    return this.inner.append(repo, id, body, range, opts);
  }

  async finish(repo: string, id: string, digest: string | undefined, final?: FinalChunk): Promise<BlobRecord> {
    const cause = causeOf(this.cause);
    const blob = await this.inner.finish(repo, id, digest, final);
    await this.sink.blobPushed({ repository: repo, ...blob, url: cause.urls?.blob(repo, blob.digest) }, cause.request());
    return blob;
  }

  cancel(repo: string, id: string): Promise<void> {
    return this.inner.cancel(repo, id);
  }

  purge(olderThan: number, dryRun?: boolean): Promise<string[]> {
    return this.inner.purge(olderThan, dryRun);
  }
}
