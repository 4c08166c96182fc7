/**
 * The meta store: what the registry knows about repositories, blobs, manifests, tags and the
 * references between them. Bytes live in the storage driver; this is the index over them, so
 * that tags, catalog, referrers, garbage collection, search and access control never walk
 * storage. Implementations: sqlite/ (embedded default) and postgres/meta-store.ts (several nodes
 * sharing one database); one suite for both, conformance.ts.
 */

import type { AccessFilter } from '../auth/visibility.ts';
import type { GcRules } from './gc.ts';

export interface BlobRecord {
  digest: string;
  size: number;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  /** artifactType of the manifest, or its config media type for image manifests. */
  artifactType: string | null;
  /** Digest of the manifest this one refers to (OCI `subject`). */
  subject: string | null;
  annotations: Record<string, string> | null;
  createdAt: number;
}

export interface NewManifest extends ManifestRecord {
  /** Blobs (config, layers) the manifest references. */
  blobs: string[];
  /** Child manifests (of an index / manifest list). */
  children: string[];
}

/** An upload session: bytes arrive in storage, the session itself is recorded here. */
export interface UploadSession {
  id: string;
  repo: string;
  startedAt: number;
}

export interface LinkOptions {
  completedUpload?: string;
  journal?: Buffer;
  /** The beginBlobWrite token of the write of these bytes: it ends with the link, in the same transaction. */
  writeToken?: string;
}

export interface PutManifestOptions {
  /** The beginBlobWrite token of the write of the manifest's bytes; it ends in the same transaction. */
  writeToken?: string;
  /**
   * Check in the transaction that every blob the manifest references is linked to the repository
   * and every child manifest is in it: garbage collection may have taken one since the caller
   * looked (MissingReferenceError). Off for a mirror's fetched manifests, whose blobs come later.
   */
  verifyReferences?: boolean;
}

/** A manifest references a blob or child manifest the repository does not hold (any more). */
export class MissingReferenceError extends Error {
  readonly code = 'BERTH_MISSING_REFERENCE';
  constructor(
    readonly digest: string,
    readonly kind: 'blob' | 'manifest',
  ) {
    super(`${kind} ${digest} is not in the repository`);
  }
}

/**
 * A blob or manifest that a manifest of the same repository still references (or, for a blob,
 * that is a manifest's own bytes) cannot be taken out from under it: `by` names that manifest.
 */
export class StillReferencedError extends Error {
  readonly code = 'BERTH_STILL_REFERENCED';
  constructor(
    readonly digest: string,
    readonly kind: 'blob' | 'manifest',
    readonly by: string,
  ) {
    super(`${kind} ${digest} is referenced by manifest ${by}`);
  }
}

/** A blob whose bytes are kept in the journal until storage has flushed them. */
export interface JournaledBlob {
  digest: string;
  data: Buffer;
}

export interface Page {
  /** Return entries strictly after this one, in lexical order. */
  last?: string;
  /** At most this many entries. */
  n?: number;
}

export const TAG_SORTS = ['name', 'pushed', 'size'] as const;
export type TagSort = (typeof TAG_SORTS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** A page of a repository's tags, filtered and sorted. */
export interface TagQuery {
  /** Tags whose name contains this (case-insensitive); '' for all. */
  text: string;
  /** By name, by when the tag was last pushed, or by total size; ties by name. */
  sort: TagSort;
  order: SortOrder;
  offset: number;
  limit: number;
}

export interface TaggedManifest {
  tag: string;
  manifest: ManifestRecord;
  /** The manifest's own size plus the distinct blobs it references, and for an index its children's (see totalSize). */
  totalSize: number;
  /** When the tag was last pushed (ms since epoch). */
  pushedAt: number;
}

export interface TagPage {
  /** Tags matching the query's text, on every page. */
  total: number;
  tags: TaggedManifest[];
}

/**
 * When a repository was created and last changed, as every view shows them (the repository API,
 * search, the web UI's pages and listings).
 */
export interface RepositoryTimes {
  /** Its first manifest's push (ms since epoch). */
  createdAt: number;
  /** Its last push, tag move, tag delete or manifest delete (ms since epoch). */
  updatedAt: number;
}

export interface MetaStore {
  /**
   * A number that moves whenever another process commits to this store's database (SQLite's
   * data_version: `berth` CLI commands beside the server), so that caches of what it holds can be
   * forgotten. Absent where there are no such writers, or where they announce their changes (MetaChanges).
   */
  externalChanges?(): number;
  /** A blob linked to the repository, or undefined. */
  getRepositoryBlob(repo: string, digest: string): Promise<BlobRecord | undefined>;
  /** A blob known anywhere in the registry, or undefined. */
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** A blob linked to at least one repository (what a mount without `from` may use), or undefined. */
  findLinkedBlob(digest: string): Promise<BlobRecord | undefined>;
  /**
   * Record a committed blob and link it to the repository (creating the repository), in one
   * transaction with: removing the upload session it completes, and keeping a durable copy of its
   * bytes in the blob journal (for small blobs written to storage with durable: false).
   */
  linkBlob(repo: string, blob: BlobRecord, opts?: LinkOptions): Promise<void>;
  /**
   * Remove a blob's link from a repository; false if it was not linked. StillReferencedError
   * (nothing removed) while a manifest of the repository references the blob (config, layer,
   * child) or is the blob: judged in the unlink's transaction, so a manifest pushed meanwhile
   * either is seen or finds the link gone.
   */
  unlinkBlob(repo: string, digest: string): Promise<boolean>;
  /**
   * Link a blob the registry already records (a mount), in one transaction with the check that it
   * still is (garbage collection may have taken it); undefined when it is not recorded.
   */
  linkExisting(repo: string, digest: string): Promise<BlobRecord | undefined>;
  /**
   * Announce a write of a blob's bytes to their content-addressed place (an upload's commit, a
   * manifest's bytes, a mirror's fill), before writing: a token to end it with (linkBlob's
   * writeToken, putManifest's, or endBlobWrite), or undefined while garbage collection is deleting
   * that blob's bytes; the writer tries again a moment later (gc.ts, registry/blob-writes.ts).
   */
  beginBlobWrite(digest: string): Promise<string | undefined>;
  /** The write is over without a link (it failed, or linked by other means). */
  endBlobWrite(token: string): Promise<void>;

  /** Record a manifest (its bytes already committed as a blob), its references, and optionally a tag, in one transaction. */
  putManifest(repo: string, manifest: NewManifest, tag?: string, opts?: PutManifestOptions): Promise<void>;
  getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repo: string, tag: string): Promise<ManifestRecord | undefined>;
  /**
   * Remove a manifest from a repository with every tag that points at it; false if absent. With
   * `collectable`, only if garbage collection's rules collect it (gc.ts manifestVerdict), judged in
   * the same transaction as the delete, so a tag or index pushed meanwhile keeps it. Without it,
   * StillReferencedError (nothing removed) while an index of the repository lists it as a child.
   */
  deleteManifest(repo: string, digest: string, collectable?: GcRules): Promise<boolean>;
  /** Remove a tag; false if absent. */
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Tags of a repository in lexical order; undefined when the repository is unknown. */
  listTags(repo: string, page: Page): Promise<string[] | undefined>;
  /**
   * Repositories holding at least one manifest, in lexical order; with `visible`, only those it
   * lets the caller pull (the filter is part of the query: a page costs the same whatever is hidden).
   */
  listRepositories(page: Page, visible?: AccessFilter): Promise<string[]>;
  /** Manifests of the repository whose subject is the given digest, optionally of one artifactType. */
  listReferrers(repo: string, subject: string, artifactType?: string): Promise<ManifestRecord[]>;
  repositoryExists(repo: string): Promise<boolean>;
  /** When the repository was first pushed and last changed; undefined while it holds no manifest. */
  repositoryTimes(repo: string): Promise<RepositoryTimes | undefined>;
  /**
   * A page of tags with their manifests and sizes, sorted and paged in the store (sizes are only
   * computed for the page, unless sorting by size); undefined when the repository holds no manifest.
   */
  queryTags(repo: string, query: TagQuery): Promise<TagPage | undefined>;
  /** The tags pointing at a manifest, in lexical order. */
  tagsOf(repo: string, digest: string): Promise<string[]>;
  /**
   * The bytes a manifest accounts for: its own, its blobs' (config, layers) and, for an index, its
   * children's and theirs, each distinct blob once; 0 when the repository has no such manifest.
   */
  totalSize(repo: string, digest: string): Promise<number>;
  /** Digests of every manifest of a repository, in lexical order; [] when it holds none. */
  listManifests(repo: string): Promise<string[]>;

  /** Journaled blobs, oldest first. */
  journaledBlobs(limit: number): Promise<JournaledBlob[]>;
  /** Drop journal entries once storage holds their bytes durably. */
  clearJournal(digests: string[]): Promise<void>;

  createUpload(session: UploadSession): Promise<void>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /** Make a session durable (it may have been created without a flush). */
  persistUpload(id: string): Promise<void>;
  /** False when there was no such session. */
  deleteUpload(id: string): Promise<boolean>;
  /** Sessions started before the given time (ms since epoch), oldest first. */
  listUploads(startedBefore: number): Promise<UploadSession[]>;
  /** Check the store answers (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
