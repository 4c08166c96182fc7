/**
 * The SQL of garbage collection's reviews, the same on SQLite and PostgreSQL (named parameters;
 * booleans come back as 0/1 from SQLite and true/false from PostgreSQL, toFacts reads both).
 */
import type { BlobFacts, ManifestFacts } from '../gc.ts';

export const GC_SQL = {
  /** What decides a queued blob's fate (gc.ts blobVerdict). */
  blobFacts: `SELECT b.size AS size,
      (EXISTS (SELECT 1 FROM manifest_references r WHERE r.child_digest = b.digest)
        OR EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)) AS referenced,
      EXISTS (SELECT 1 FROM repository_blobs l WHERE l.digest = b.digest AND l.created_at > @youngAfter) AS young,
      EXISTS (SELECT 1 FROM gc_blob_writes w WHERE w.digest = b.digest AND w.started_at > @staleBefore) AS writing
    FROM blobs b WHERE b.digest = @digest`,
  blobRepositories: `SELECT r.name FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id
    WHERE l.digest = @digest ORDER BY r.name`,
  /** What decides a queued manifest's fate (gc.ts manifestVerdict). */
  manifestFacts: `SELECT r.name AS repository, m.digest AS digest, m.size AS size, m.created_at AS "createdAt",
      m.subject_digest AS subject,
      EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest) AS tagged,
      EXISTS (SELECT 1 FROM manifest_references c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest) AS child,
      EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest) AS "subjectAlive"
    FROM manifests m JOIN repositories r ON r.id = m.repository_id
    WHERE m.repository_id = @repositoryId AND m.digest = @digest`,
  manifestQueue: `SELECT repository_id AS "repositoryId", digest FROM gc_manifest_queue
    WHERE repository_id > @repositoryId OR (repository_id = @repositoryId AND digest > @digest)
    ORDER BY repository_id, digest LIMIT @limit`,
  unqueueManifest: 'DELETE FROM gc_manifest_queue WHERE repository_id = @repositoryId AND digest = @digest',
  blobQueue: 'SELECT digest FROM gc_blob_queue WHERE digest > @after ORDER BY digest LIMIT @limit',
  unqueueBlob: 'DELETE FROM gc_blob_queue WHERE digest = @digest',
  /** Marking, in this order: the links go first (their trigger queues the digest), the queue entry last. */
  mark: [
    'DELETE FROM repository_blobs WHERE digest = @digest',
    'DELETE FROM blob_journal WHERE digest = @digest',
    'DELETE FROM blobs WHERE digest = @digest',
    'INSERT INTO gc_blob_deleting (digest, size, expires_at) VALUES (@digest, @size, @expiresAt)',
    'DELETE FROM gc_blob_queue WHERE digest = @digest',
  ],
  marks: 'SELECT digest, size, expires_at AS "expiresAt" FROM gc_blob_deleting ORDER BY digest',
  /** A mark is obsolete when its blob is recorded again or being written (its bytes are wanted). */
  markObsolete: `SELECT (EXISTS (SELECT 1 FROM blobs WHERE digest = @digest)
      OR EXISTS (SELECT 1 FROM gc_blob_writes WHERE digest = @digest AND started_at > @staleBefore)) AS obsolete`,
  renewMark: 'UPDATE gc_blob_deleting SET expires_at = @expiresAt WHERE digest = @digest',
  unmark: 'DELETE FROM gc_blob_deleting WHERE digest = @digest',
  queued: `SELECT (SELECT COUNT(*) FROM gc_blob_queue) AS blobs, (SELECT COUNT(*) FROM gc_manifest_queue) AS manifests`,
  startRun: `INSERT INTO gc_runs (started_at, trigger, dry_run, node) VALUES (@startedAt, @trigger, @dryRun, @node) RETURNING id`,
  finishRun: 'UPDATE gc_runs SET finished_at = @finishedAt, report = @report WHERE id = @id',
  runs: `SELECT id, started_at AS "startedAt", finished_at AS "finishedAt", trigger, dry_run AS "dryRun", node, report
    FROM gc_runs ORDER BY id DESC LIMIT @limit`,

  /** Blob writes: the mark of a blob being deleted (a writer waits while it lasts), and the writers' intents. */
  deletingMark: 'SELECT expires_at AS "expiresAt" FROM gc_blob_deleting WHERE digest = @digest',
  beginWrite: 'INSERT INTO gc_blob_writes (token, digest, started_at) VALUES (@token, @digest, @now)',
  endWrite: 'DELETE FROM gc_blob_writes WHERE token = @token',
} as const;

const bool = (v: unknown): boolean => v === true || v === 1 || v === 't';

export function toBlobFacts(row: Record<string, unknown> | undefined): BlobFacts | undefined {
  return row && { size: Number(row.size), referenced: bool(row.referenced), young: bool(row.young), writing: bool(row.writing) };
}

export function toManifestFacts(row: Record<string, unknown> | undefined): ManifestFacts | undefined {
  return (
    row && {
      repository: String(row.repository),
      digest: String(row.digest),
      size: Number(row.size),
      createdAt: Number(row.createdAt),
      subject: row.subject === null ? null : String(row.subject),
      tagged: bool(row.tagged),
      child: bool(row.child),
      subjectAlive: bool(row.subjectAlive),
    }
  );
}

export interface RunRow {
  id: number | string;
  startedAt: number | string;
  finishedAt: number | string | null;
  trigger: string;
  dryRun: number | boolean;
  node: string;
  report: string | null;
}

export function toRun(r: RunRow) {
  return {
    id: Number(r.id),
    startedAt: Number(r.startedAt),
    finishedAt: r.finishedAt === null ? null : Number(r.finishedAt),
    trigger: r.trigger,
    dryRun: bool(r.dryRun),
    node: r.node,
    report: r.report === null ? null : (JSON.parse(r.report) as unknown),
  };
}
