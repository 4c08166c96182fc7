/**
 * The blob inventory: what `berth fsck` and `berth backup` read of the meta store to hold it
 * against storage, in pages whose cost does not grow with the registry (blob records in digest
 * order, the uses of one digest, references to nothing, journal entries), and the one repair fsck
 * makes to it: forgetting the record of a blob whose bytes are gone and that no manifest needs.
 * Implementations: sqlite/inventory.ts and postgres/inventory.ts; one suite, inventory-conformance.ts.
 */
import type { JournaledBlob } from './store.ts';

/** A blob the meta store records. */
export interface InventoryBlob {
  digest: string;
  size: number;
  /** When it was first recorded (ms since epoch). */
  createdAt: number;
}

export interface InventoryTotals {
  blobs: number;
  bytes: number;
  /** Blobs whose bytes the journal still holds (waiting for the checkpoint that flushes their file). */
  journaled: number;
}

/**
 * What makes a digest needed: it is a manifest of a repository (`manifest`), a blob (config,
 * layer) a manifest references (`blob`), an index's child (`child`), or only linked to a
 * repository by an upload or mount (`link`: no manifest needs it yet).
 */
export type BlobUseKind = 'manifest' | 'blob' | 'child' | 'link';

export interface BlobUse {
  kind: BlobUseKind;
  repository: string;
  /** The manifest that is or references the digest; undefined for a link. */
  manifest?: string;
}

/** A manifest's reference to a digest the meta store does not record (a blob with no record, a child no manifest of the repository is). */
export interface DanglingReference {
  repository: string;
  manifest: string;
  target: string;
  kind: 'blob' | 'child';
}

export interface BlobInventory {
  totals(): Promise<InventoryTotals>;
  /** Blob records whose digest sorts after `after` ('' for the first page), in digest order (byte-wise), at most `limit`. */
  blobs(after: string, limit: number): Promise<InventoryBlob[]>;
  /** Everything that needs the digest, ordered by repository, manifest and kind. */
  usesOf(digest: string): Promise<BlobUse[]>;
  /** References whose target is not recorded, ordered by repository, manifest and target, at most `limit`. */
  danglingReferences(limit: number): Promise<DanglingReference[]>;
  /**
   * Whether garbage collection is deleting the digest's bytes: its record is gone and its mark
   * (gc_blob_deleting) lasts until the file is deleted, so the file is not an orphan meanwhile.
   */
  collecting(digest: string): Promise<boolean>;
  /** Journal entries whose digest sorts after `after`, in digest order, at most `limit`. */
  journal(after: string, limit: number): Promise<JournaledBlob[]>;
  /**
   * Remove a blob's record, its links to repositories and its journal entry, in one transaction,
   * unless a manifest is it or references it: returns false then (and changes nothing), or when
   * there was no record.
   */
  forgetBlob(digest: string): Promise<boolean>;
}
