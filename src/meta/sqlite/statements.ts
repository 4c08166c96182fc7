/** The prepared statements of the SQLite meta store, typed. */
import type Database from 'better-sqlite3';
import type { BlobRecord, UploadSession } from '../store.ts';
import { MANIFEST_COLUMNS, type ManifestRow } from '../rows/manifests.ts';
import { GC_SQL } from '../rows/gc.ts';
import { REFERENCE_SQL } from '../rows/references.ts';

export function prepareStatements(db: Database.Database) {
  return {
    repoId: db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?'),
    // created_at is 0 until the repository's first manifest (migration 9), updated_at its last change.
    upsertRepo: db.prepare<[string, number]>(
      'INSERT INTO repositories (name, created_at, updated_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING',
    ),
    touchRepo: db.prepare<[number, number]>('UPDATE repositories SET updated_at = ? WHERE id = ?'),
    markCreated: db.prepare<[number, number]>('UPDATE repositories SET created_at = ? WHERE id = ? AND created_at = 0'),
    repoTimes: db.prepare<[string], { createdAt: number; updatedAt: number }>(
      `SELECT r.created_at AS createdAt, r.updated_at AS updatedAt FROM repositories r
       WHERE r.name = ? AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`,
    ),
    blob: db.prepare<[string], BlobRecord>('SELECT digest, size FROM blobs WHERE digest = ?'),
    repoBlob: db.prepare<[string, string], BlobRecord>(
      `SELECT b.digest, b.size FROM repository_blobs rb
       JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
       WHERE r.name = ? AND rb.digest = ?`,
    ),
    insertBlob: db.prepare<[string, number, number]>(
      'INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING',
    ),
    linkBlob: db.prepare<[number, string, number]>(
      'INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    unlinkBlob: db.prepare<[number, string]>('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?'),
    insertManifest: db.prepare<[number, string, string, string | null, number, string | null, string | null, number]>(
      `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, subject_digest, annotations, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING`,
    ),
    insertReference: db.prepare<[number, string, string, string]>(
      `INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind) VALUES (?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    upsertTag: db.prepare<[number, string, string, number]>(
      `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
    ),
    manifest: db.prepare<[string, string], ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.digest = ?`,
    ),
    tagManifest: db.prepare<[string, string], ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS} FROM tags t JOIN repositories r ON r.id = t.repository_id
       JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
       WHERE r.name = ? AND t.name = ?`,
    ),
    deleteTagsOf: db.prepare<[number, string]>('DELETE FROM tags WHERE repository_id = ? AND manifest_digest = ?'),
    deleteManifest: db.prepare<[number, string]>('DELETE FROM manifests WHERE repository_id = ? AND digest = ?'),
    deleteTag: db.prepare<[number, string]>('DELETE FROM tags WHERE repository_id = ? AND name = ?'),
    tags: db.prepare<[number, string, number], { name: string }>(
      'SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?',
    ),
    repositories: db.prepare<[string, number], { name: string }>(
      `SELECT r.name FROM repositories r WHERE r.name > ?
       AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY r.name LIMIT ?`,
    ),
    hasManifests: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM manifests WHERE repository_id = ? LIMIT 1'),
    tagsOf: db.prepare<[string, string], { name: string }>(
      `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
       WHERE r.name = ? AND t.manifest_digest = ? ORDER BY t.name`,
    ),
    manifestDigests: db.prepare<[string], { digest: string }>(
      'SELECT m.digest FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? ORDER BY m.digest',
    ),
    referrers: db.prepare<[string, string], ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.subject_digest = ? ORDER BY m.created_at, m.digest`,
    ),
    referrersOfType: db.prepare<[string, string, string], ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.subject_digest = ? AND m.artifact_type = ? ORDER BY m.created_at, m.digest`,
    ),
    journalBlob: db.prepare<[string, Buffer, number]>(
      'INSERT INTO blob_journal (digest, data, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING',
    ),
    journaled: db.prepare<[number], { digest: string; data: Buffer }>(
      'SELECT digest, data FROM blob_journal ORDER BY created_at, digest LIMIT ?',
    ),
    unjournal: db.prepare<[string]>('DELETE FROM blob_journal WHERE digest = ?'),
    touchUpload: db.prepare<[string]>('UPDATE uploads SET started_at = started_at WHERE id = ?'),
    linkedBlob: db.prepare<[string], BlobRecord>(
      'SELECT b.digest, b.size FROM blobs b WHERE b.digest = ? AND EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)',
    ),
    insertUpload: db.prepare<[string, string, number]>('INSERT INTO uploads (id, repository, started_at) VALUES (?, ?, ?)'),
    upload: db.prepare<[string], UploadSession>('SELECT id, repository AS repo, started_at AS startedAt FROM uploads WHERE id = ?'),
    deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
    uploadsBefore: db.prepare<[number], UploadSession>(
      'SELECT id, repository AS repo, started_at AS startedAt FROM uploads WHERE started_at < ? ORDER BY started_at',
    ),
    // garbage collection's side of a blob write (gc.ts): the deletion's mark, the writer's intent
    deletingMark: db.prepare(GC_SQL.deletingMark),
    unmark: db.prepare(GC_SQL.unmark),
    beginWrite: db.prepare(GC_SQL.beginWrite),
    endWrite: db.prepare(GC_SQL.endWrite),
    manifestFacts: db.prepare(GC_SQL.manifestFacts),
    // what refuses an unlink or a manifest delete (rows/references.ts)
    blobHolder: db.prepare<[{ repositoryId: number; digest: string }], { digest: string }>(REFERENCE_SQL.blobHolder),
    parentOf: db.prepare<[{ repositoryId: number; digest: string }], { digest: string }>(REFERENCE_SQL.parentOf),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
