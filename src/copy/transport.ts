/**
 * Moving images between places (issue 17): `berth cp`, `berth push-images` and replication all
 * run one copy engine (engine.ts) between a source and a destination of these shapes. A transport
 * is where images live and how they are named there:
 *
 *   docker://HOST/REPO[:TAG|@DIGEST]   a registry (registry-transport.ts)
 *   oci:DIR[:REF]                      an OCI image layout directory (oci-layout.ts)
 *   oci-archive:FILE[:REF]             a tar of an OCI image layout (oci-archive.ts)
 *   docker-archive:FILE[:NAME:TAG]     `docker save`'s tar, old and new formats (docker-archive.ts)
 *
 * Images are copied as they are: manifests byte for byte, so every digest stays the same.
 */
import type { Readable } from 'node:stream';

/** A blob a manifest names (a config or a layer). */
export interface BlobRef {
  digest: string;
  size: number;
  mediaType?: string;
}

/** A manifest as stored: an image manifest or an index, its exact bytes, type and digest. */
export interface ManifestBytes {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** Where a registry source's image lives: a destination on the same registry can mount from it. */
export interface RegistryLocation {
  /** host[:port] as the client reaches it. */
  host: string;
  repository: string;
}

/** Where images are read from, by digest in any order. */
export interface ImageSource {
  /** For messages: `docker://127.0.0.1:5000/alice/app:1.0`. */
  readonly description: string;
  /** Set when the source is a registry (cross-repository mounts). */
  readonly registry?: RegistryLocation;
  /** The manifest the reference names: an image manifest or an index. */
  manifest(): Promise<ManifestBytes>;
  /** A manifest named by an index, by digest. */
  childManifest(digest: string): Promise<ManifestBytes>;
  /**
   * The blob's bytes from `offset` (0: the whole blob). The engine checks size and digest as
   * they flow; a source does not need to.
   */
  blob(ref: BlobRef, offset?: number): Promise<Readable>;
  close(): Promise<void>;
}

/** Where images are written to. Nothing is visible under a tag before the top manifest is put. */
export interface ImageDestination {
  readonly description: string;
  readonly registry?: RegistryLocation;
  /** Whether the blob is there already (a registry: HEAD); the engine then skips it. */
  hasBlob(ref: BlobRef): Promise<boolean>;
  /**
   * Make the blob present without sending it: a registry's cross-repository mount from `from`
   * (a repository of the same registry). False when it could not (the engine then sends it).
   */
  mountBlob?(ref: BlobRef, from: string): Promise<boolean>;
  /** Repositories of the destination's registry known (from earlier copies) to hold the blob: mounted from, when they do. */
  knownLocations?(ref: BlobRef): Promise<string[]>;
  /**
   * Store a blob. `open(offset)` gives its bytes from offset: a destination that can resume an
   * upload an earlier, interrupted copy left (a registry's upload session) asks for the rest
   * only. `sent(n)` reports bytes as they go (progress). Rejects on a digest or size mismatch.
   */
  putBlob(ref: BlobRef, open: (offset: number) => Promise<Readable>, sent: (bytes: number) => void): Promise<void>;
  /**
   * Store a blob whose digest is known only once its bytes went by (a legacy `docker save` layer,
   * SequentialEntry 'unnamed-blob'): its bytes from `body`, the digest named at the end. Resolves
   * with the blob as stored. Destinations that cannot (files) leave it out.
   */
  putUnnamedBlob?(size: number, body: Readable, digest: Promise<string>, sent: (bytes: number) => void): Promise<BlobRef>;
  /** Store a manifest: by digest (an index's child), or under `tag` as well (the top one). */
  putManifest(manifest: ManifestBytes, tag: string | undefined): Promise<void>;
  /** The copy is complete: an archive writes its index and closes its file. */
  commit(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A source that can only be read once, front to back (a `docker save` stream from the engine's
 * socket): blobs come in the order it has them, manifests at the end. The engine stores each blob
 * as it arrives, so nothing of the image is kept on disk on the way.
 */
export interface SequentialSource {
  readonly description: string;
  /** Every entry of the stream, in order; a blob's `body` must be read (or resumed) before the next. */
  entries(): AsyncIterable<SequentialEntry>;
  close(): Promise<void>;
}

export type SequentialEntry =
  | { kind: 'blob'; ref: BlobRef; body: Readable }
  /**
   * A blob the stream does not name before its bytes: a legacy `docker save` layer
   * (`<id>/layer.tar`, where `<id>` is not its digest). The source hashes `body` as it is read;
   * `digest` resolves once `body` has been read to its end (and rejects if it was not), so a
   * consumer streams it into an upload and names the digest at the end (a registry's final
   * `PUT ?digest=`). The `images` entry names these blobs by that digest.
   */
  | { kind: 'unnamed-blob'; size: number; body: Readable; digest: Promise<string> }
  /** The images the stream held, once it has said which (with the tags it names, `name:tag`). */
  | { kind: 'images'; images: { manifest: ManifestBytes; children: ManifestBytes[]; names: string[] }[] };

/** A transport's errors carry a stable code; the CLI prints the message. */
export class CopyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The registry's HTTP status, when a registry refused. */
    readonly status?: number,
  ) {
    super(message);
  }
}
