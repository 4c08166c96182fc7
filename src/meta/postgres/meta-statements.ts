/**
 * The SQL of the PostgreSQL meta store (meta-store.ts), with named parameters (named.ts): the
 * statements of sqlite/statements.ts, with quoted camelCase aliases (PostgreSQL folds unquoted
 * ones to lower case), arrays where SQLite ran one statement per item, and the repository row
 * locked first by every write that changes a repository's manifests or tags (see REPOSITORY_LOCK).
 */

import { MANIFEST_COLUMNS } from '../rows/manifests.ts';

const UPLOAD_COLUMNS = 'id, repository AS repo, started_at AS "startedAt"';

export const SQL = {
  repoId: 'SELECT id FROM repositories WHERE name = @repo',
  /** A repository for blobs: created_at stays 0 until its first manifest. */
  ensureRepo: 'INSERT INTO repositories (name, created_at, updated_at) VALUES (@repo, 0, @now) ON CONFLICT (name) DO NOTHING',
  /**
   * A repository for a manifest, created or marked created and touched, in one upsert that also
   * locks its row until the transaction ends (REPOSITORY_LOCK). Its time was read before the lock:
   * a push that waited behind another node's never moves updated_at back (GREATEST).
   */
  pushRepo: `INSERT INTO repositories AS r (name, created_at, updated_at) VALUES (@repo, @now, @now)
    ON CONFLICT (name) DO UPDATE SET updated_at = GREATEST(r.updated_at, excluded.updated_at),
      created_at = CASE WHEN r.created_at = 0 THEN excluded.created_at ELSE r.created_at END
    RETURNING id`,
  /**
   * Every transaction that changes a repository's manifests or tags takes its row first: they run
   * one at a time per repository, as on SQLite, so none deadlocks another (a tag delete against a
   * push moving the tag), and the search triggers' "does it still hold a manifest" sees the others'.
   * Blob links take only the key-share lock of their foreign key, which this does not block.
   */
  lockRepo: 'SELECT id FROM repositories WHERE name = @repo FOR NO KEY UPDATE',
  touchRepo: 'UPDATE repositories SET updated_at = GREATEST(updated_at, @now) WHERE id = @id',
  repoTimes: `SELECT r.created_at AS "createdAt", r.updated_at AS "updatedAt" FROM repositories r
    WHERE r.name = @repo AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`,

  blob: 'SELECT digest, size FROM blobs WHERE digest = @digest',
  repoBlob: `SELECT b.digest, b.size FROM repository_blobs rb
    JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
    WHERE r.name = @repo AND rb.digest = @digest`,
  linkedBlob: `SELECT b.digest, b.size FROM blobs b
    WHERE b.digest = @digest AND EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)`,
  /** Record the blob (if new) and link it to the repository (if not yet), in one statement. */
  linkBlob: `WITH blob AS (INSERT INTO blobs (digest, size, created_at) VALUES (@digest, @size, @now) ON CONFLICT (digest) DO NOTHING)
    INSERT INTO repository_blobs (repository_id, digest, created_at)
    SELECT id, @digest, @now FROM repositories WHERE name = @repo ON CONFLICT DO NOTHING`,
  /** Under the repository's lock (REPOSITORY_LOCK), against a manifest pushed meanwhile that references the blob. */
  unlinkBlob: 'DELETE FROM repository_blobs WHERE repository_id = @id AND digest = @digest',

  insertManifest: `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, subject_digest, annotations, created_at)
    VALUES (@id, @digest, @mediaType, @artifactType, @size, @subject, @annotations, @createdAt)
    ON CONFLICT (repository_id, digest) DO NOTHING`,
  /** One row per child, in the order given; the first kind given for a child wins, as on SQLite. */
  insertReferences: `INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
    SELECT @id, @digest, c.child, @kind FROM unnest(@children::text[]) WITH ORDINALITY AS c(child, i) ORDER BY c.i
    ON CONFLICT DO NOTHING`,
  upsertTag: `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (@id, @tag, @digest, @now)
    ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
  manifest: `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
    WHERE r.name = @repo AND m.digest = @digest`,
  tagManifest: `SELECT ${MANIFEST_COLUMNS} FROM tags t JOIN repositories r ON r.id = t.repository_id
    JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
    WHERE r.name = @repo AND t.name = @tag`,
  /** Its tags and references go with it (ON DELETE CASCADE). */
  deleteManifest: 'DELETE FROM manifests WHERE repository_id = @id AND digest = @digest',
  deleteTag: 'DELETE FROM tags WHERE repository_id = @id AND name = @tag',
  /** @n NULL: no limit. */
  tags: 'SELECT name FROM tags WHERE repository_id = @id AND name > @last ORDER BY name LIMIT @n',
  repositories: `SELECT r.name FROM repositories r WHERE r.name > @last
    AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY r.name LIMIT @n`,
  hasManifests: 'SELECT 1 AS one FROM manifests WHERE repository_id = @id LIMIT 1',
  tagsOf: `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
    WHERE r.name = @repo AND t.manifest_digest = @digest ORDER BY t.name`,
  manifestDigests: 'SELECT m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = @repo ORDER BY m.digest',
  referrers: `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
    WHERE r.name = @repo AND m.subject_digest = @subject AND (@artifactType::text IS NULL OR m.artifact_type = @artifactType)
    ORDER BY m.created_at, m.digest`,

  journalBlob: 'INSERT INTO blob_journal (digest, data, created_at) VALUES (@digest, @data, @now) ON CONFLICT (digest) DO NOTHING',
  journaled: 'SELECT digest, data FROM blob_journal ORDER BY created_at, digest LIMIT @limit',
  unjournal: 'DELETE FROM blob_journal WHERE digest = ANY(@digests::text[])',

  /**
   * Garbage collection's locks (gc.ts): a blob's row shared by whoever relies on it in a
   * transaction (a manifest referencing it, a mount), so a collection cannot mark it meanwhile,
   * and a lock per digest (an advisory one: a new blob has no row yet) between a writer's intent
   * and a collection's mark.
   */
  shareBlobs: 'SELECT digest FROM blobs WHERE digest = ANY(@digests::text[]) ORDER BY digest FOR SHARE',
  repoLinks: `SELECT l.digest FROM repository_blobs l WHERE l.repository_id = @id AND l.digest = ANY(@digests::text[])`,
  repoManifests: `SELECT m.digest FROM manifests m WHERE m.repository_id = @id AND m.digest = ANY(@digests::text[])`,
  digestLockShared: 'SELECT pg_advisory_xact_lock_shared(hashtextextended(@digest, 0))',

  insertUpload: 'INSERT INTO uploads (id, repository, started_at) VALUES (@id, @repo, @startedAt)',
  upload: `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = @id`,
  deleteUpload: 'DELETE FROM uploads WHERE id = @id',
  uploadsBefore: `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE started_at < @before ORDER BY started_at, id`,
} as const;
