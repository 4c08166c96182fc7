/**
 * What online garbage collection keeps in the meta store (docs/gc.md has the whole argument).
 * Triggers queue for review whatever may have become garbage: a blob linked, unlinked or no
 * longer referenced, a manifest pushed, untagged, or orphaned by its index or its subject; a
 * collection reviews only the queues, never all of storage. A dangling blob is first *marked* in a
 * transaction that removes its record, links and journal copy (so no manifest can reference it and
 * no mount can link it any more); its bytes are deleted after, and the mark dropped last. A writer
 * of a blob's bytes announces itself first (MetaStore.beginBlobWrite): a blob being written is
 * never marked, and a marked blob's bytes are not written until its mark is gone. Implementations:
 * sqlite/gc-store.ts, postgres/gc-store.ts; one suite, gc-conformance.ts.
 */

/** How a collection judges: its clock, the grace period and what becomes of untagged manifests. */
export interface GcRules {
  now: number;
  /** A blob linked, or a manifest pushed, less than this long ago is never collected (ms). */
  graceMs: number;
  /** Untagged manifests (not a child of an index, not a referrer of a live subject): kept, or collected after the grace. */
  untagged: 'keep' | 'delete';
}

/** Where a review of a queue stopped, to go on from. */
export interface ManifestCursor {
  repositoryId: number;
  digest: string;
}

export type ManifestReason = 'untagged' | 'orphaned-referrer';

export interface ManifestCandidate {
  repository: string;
  digest: string;
  size: number;
  reason: ManifestReason;
}

/** A blob found dangling (marked for deletion, or in a dry run, that would be). */
export interface DanglingBlob {
  digest: string;
  size: number;
  /** The repositories it was still linked to (for the report). */
  repositories: string[];
}

/** A blob whose bytes are to be deleted: its mark lasts until expiresAt; past it, nothing may be deleted under it. */
export interface MarkedBlob {
  digest: string;
  size: number;
  expiresAt: number;
}

/** A collection as recorded for the API and the UI. */
export interface GcRunRecord {
  id: number;
  startedAt: number;
  finishedAt: number | null;
  trigger: string;
  dryRun: boolean;
  node: string;
  /** The run's report (GcReport, registry/gc.ts) once it finished; null while it runs or if it died. */
  report: unknown;
}

export interface GcStore {
  /**
   * The next queued manifests after `cursor` that the rules collect now. Manifests that cannot be
   * collected until something else changes leave the queue (a trigger queues them again), unless
   * `dryRun`; those too young stay.
   */
  reviewManifests(cursor: ManifestCursor | undefined, limit: number, rules: GcRules, dryRun: boolean): Promise<{ candidates: ManifestCandidate[]; next?: ManifestCursor }>;
  /**
   * Review the next queued blobs after `cursor`: mark each dangling one for deletion (its record,
   * links and journal copy removed, a mark lasting `markTtlMs`), drop referenced ones from the
   * queue, keep those linked within the grace or being written. A dry run only reports.
   */
  markBlobs(cursor: string | undefined, limit: number, rules: GcRules, markTtlMs: number, dryRun: boolean): Promise<{ dangling: DanglingBlob[]; next?: string }>;
  /**
   * Marks left by a run that did not finish: those of blobs recorded or being written again are
   * dropped (their bytes are wanted), the others renewed for `markTtlMs` and returned, to delete.
   */
  reclaimMarks(now: number, markTtlMs: number): Promise<MarkedBlob[]>;
  /** Drop the marks of blobs whose bytes are deleted. */
  finishBlobs(digests: string[]): Promise<void>;
  /** How many blobs and manifests wait for review (a measure of the next run's work). */
  queued(): Promise<{ blobs: number; manifests: number }>;
  startRun(run: { startedAt: number; trigger: string; dryRun: boolean; node: string }): Promise<number>;
  finishRun(id: number, finishedAt: number, report: unknown): Promise<void>;
  /** The latest runs, newest first. */
  listRuns(limit: number): Promise<GcRunRecord[]>;
}

/** Blob writers' intents older than this are from a writer that died: they protect nothing any more. */
export const BLOB_WRITE_TTL_MS = 60 * 60 * 1000;

/** What the review of one queued blob found (rows/gc.ts reads it the same way on both databases). */
export interface BlobFacts {
  size: number;
  referenced: boolean;
  young: boolean;
  writing: boolean;
}

/** drop: leave the queue; keep: look again next time; mark: dangling. */
export function blobVerdict(facts: BlobFacts | undefined): 'drop' | 'keep' | 'mark' {
  if (facts === undefined || facts.referenced) return 'drop';
  if (facts.young || facts.writing) return 'keep';
  return 'mark';
}

export interface ManifestFacts {
  repository: string;
  digest: string;
  size: number;
  createdAt: number;
  subject: string | null;
  tagged: boolean;
  child: boolean;
  subjectAlive: boolean;
}

/** A manifest's fate under the rules: collected (and why), kept for now, or out of the queue. */
export function manifestVerdict(facts: ManifestFacts | undefined, rules: GcRules): ManifestReason | 'keep' | 'drop' {
  if (facts === undefined || facts.tagged || facts.child) return 'drop';
  if (facts.subject !== null && facts.subjectAlive) return 'drop';
  const reason: ManifestReason = facts.subject !== null ? 'orphaned-referrer' : 'untagged';
  if (reason === 'untagged' && rules.untagged === 'keep') return 'keep';
  return facts.createdAt <= rules.now - rules.graceMs ? reason : 'keep';
}
