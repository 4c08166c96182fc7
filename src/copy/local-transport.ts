/**
 * berth's own registry as an image source and destination, in process (issue 17, replication):
 * the stores the Registry serves (its `blobs`, `manifests` and `uploads`, decorated to emit
 * notification events: events/emitting-stores.ts), never HTTP and auth. A push made through
 * LocalDestination therefore goes through every check a client's push does (digests verified by
 * the upload service, quotas, immutable tags, read-only mode) and emits the same events, its cause
 * the system actor `berth-replication` (events/context.ts) unless the caller names another.
 * Errors of the domain (registry/errors.ts) come through as they are.
 *
 * Both sides name their registry `berth-local` (LOCAL_HOST): the engine mounts a blob when source
 * and destination are on the same host, so a copy between two repositories of one berth links
 * every blob instead of sending it. Two different berths in one process would both call
 * themselves `berth-local`: a mount between them is tried, finds the blob not linked in `from`
 * (or finds it linked there, in the destination's own registry, which is a valid mount) and the
 * engine sends the blob.
 *
 * Blobs stream from storage to storage: nothing holds a whole blob in memory.
 */
import { Readable } from 'node:stream';
import { systemCause, SYSTEM_ACTORS, type EventContext } from '../events/context.ts';
import { storesCausedBy, type ServedStores } from '../events/emitting-stores.ts';
import { BlobUnknownError, ManifestUnknownError, NameUnknownError } from '../registry/errors.ts';
import { isTag } from '../registry/reference.ts';
import { CopyError, type BlobRef, type ImageDestination, type ImageSource, type ManifestBytes, type RegistryLocation } from './transport.ts';

/** The host both local transports name, so that the engine mounts between repositories of one berth. */
export const LOCAL_HOST = 'berth-local';

export interface LocalTransportOptions {
  /** The cause of the changes and reads (their events' actor); default the system actor `berth-replication`. */
  cause?: EventContext;
}

function locationOf(repository: string, reference?: string): string {
  if (reference === undefined) return `${LOCAL_HOST}/${repository}`;
  return `${LOCAL_HOST}/${repository}${isTag(reference) ? ':' : '@'}${reference}`;
}

function stores(registry: ServedStores, opts: LocalTransportOptions): ServedStores {
  return storesCausedBy(registry, opts.cause ?? systemCause(SYSTEM_ACTORS.replication));
}

/** A CopyError naming what is missing (the domain's error as its cause); other errors as they are. */
function notFound(err: unknown, what: string): unknown {
  if (!(err instanceof ManifestUnknownError || err instanceof BlobUnknownError || err instanceof NameUnknownError)) return err;
  const e = new CopyError('BERTH_COPY_NOT_FOUND', `${what} does not exist`);
  e.cause = err;
  return e;
}

/** Images of a repository of this berth, read through its served stores (`registry`: the Registry). */
export class LocalSource implements ImageSource {
  readonly description: string;
  readonly registry: RegistryLocation;
  private readonly stores: ServedStores;

  constructor(
    registry: ServedStores,
    readonly repository: string,
    /** A tag or a digest. */
    readonly reference: string,
    opts: LocalTransportOptions = {},
  ) {
    this.stores = stores(registry, opts);
    this.description = locationOf(repository, reference);
    this.registry = { host: LOCAL_HOST, repository };
  }

  manifest(): Promise<ManifestBytes> {
    return this.get(this.reference);
  }

  childManifest(digest: string): Promise<ManifestBytes> {
    return this.get(digest);
  }

  /** The blob as linked to the repository, from `offset`: a stream from storage (a pull event, as a client's GET). */
  async blob(ref: BlobRef, offset = 0): Promise<Readable> {
    let stream: Readable;
    try {
      const record = await this.stores.blobs.stat(this.repository, ref.digest);
      if (offset > 0 && offset >= record.size) return Readable.from([]);
      stream = (await this.stores.blobs.open(record, offset > 0 ? { start: offset, end: record.size - 1 } : undefined)).stream;
    } catch (err) {
      throw notFound(err, `blob ${ref.digest} of ${locationOf(this.repository)}`);
    }
    return stream;
  }

  async close(): Promise<void> {}

  private async get(reference: string): Promise<ManifestBytes> {
    try {
      const { record, content } = await this.stores.manifests.get(this.repository, reference);
      return { bytes: content, mediaType: record.mediaType, digest: record.digest };
    } catch (err) {
      throw notFound(err, `manifest ${locationOf(this.repository, reference)}`);
    }
  }
}

/** A repository of this berth as a copy's destination, written through its served stores (`registry`: the Registry). */
export class LocalDestination implements ImageDestination {
  readonly description: string;
  readonly registry: RegistryLocation;
  private readonly stores: ServedStores;

  constructor(
    registry: ServedStores,
    readonly repository: string,
    opts: LocalTransportOptions = {},
  ) {
    this.stores = stores(registry, opts);
    this.description = locationOf(repository);
    this.registry = { host: LOCAL_HOST, repository };
  }

  /** The blob is linked to this repository (bytes elsewhere in the registry are mounted, not skipped). */
  async hasBlob(ref: BlobRef): Promise<boolean> {
    try {
      await this.stores.blobs.stat(this.repository, ref.digest);
      return true;
    } catch (err) {
      if (err instanceof BlobUnknownError) return false;
      throw err;
    }
  }

  /** Link the blob from `from`, a repository of this berth (quotas apply: their error comes through). */
  async mountBlob(ref: BlobRef, from: string): Promise<boolean> {
    return (await this.stores.blobs.mount(this.repository, ref.digest, from)) !== undefined;
  }

  /**
   * One upload session, the whole blob as its final chunk (a small one goes through the blob
   * journal, as a client's monolithic push does); the upload service verifies the digest and the
   * quota before linking. In process nothing is resumed: `open(0)` always. On any failure the
   * session is cancelled (a digest mismatch has discarded it already) and the source closed.
   */
  async putBlob(ref: BlobRef, open: (offset: number) => Promise<Readable>, sent: (bytes: number) => void): Promise<void> {
    const { uploads } = this.stores;
    const session = await uploads.start(this.repository);
    let body: Readable | undefined;
    try {
      body = await open(0);
      await uploads.finish(this.repository, session.id, ref.digest, { body: Readable.from(counted(body, sent)), length: ref.size });
    } catch (err) {
      body?.destroy();
      // Gone already (discarded on a mismatch or a refusal): nothing left to cancel. Any other
      // failure to cancel leaves a session the upload purger removes; the copy's error matters more.
      await uploads.cancel(this.repository, session.id).catch(() => undefined);
      throw err;
    }
  }

  /** Under `tag`, else by digest; immutable tags, quotas and the other guards refuse with their own errors. */
  async putManifest(manifest: ManifestBytes, tag: string | undefined): Promise<void> {
    await this.stores.manifests.put(this.repository, tag ?? manifest.digest, manifest.bytes, manifest.mediaType);
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * The body's chunks, each reported as it goes by. Read only once the upload service reads (a
 * stream piped at once would start flowing, and a source's error could come before anyone listens).
 */
async function* counted(body: Readable, sent: (bytes: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    sent((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}
