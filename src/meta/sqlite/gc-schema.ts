/**
 * SQLite's schema for online garbage collection (docs/gc.md): the review queues that triggers fill
 * whenever something may have become garbage, so that a collection reads only what changed since
 * the last one and never lists storage; the marks of blobs being deleted; the intents of blob
 * writes in progress; and the record of past runs. postgres/schema/gc.ts is its twin.
 */
/*
 * The triggers insert only what is not queued yet rather than INSERT OR IGNORE: a trigger takes the
 * conflict handling of the statement that fires it, and an upsert's (a tag moved) would turn the
 * IGNORE into an error.
 */
const queueBlob = (digest: string): string =>
  `INSERT INTO gc_blob_queue (digest) SELECT ${digest} WHERE NOT EXISTS (SELECT 1 FROM gc_blob_queue WHERE digest = ${digest});`;
const queueManifest = (repo: string, digest: string, when = '1'): string =>
  `INSERT INTO gc_manifest_queue (repository_id, digest) SELECT ${repo}, ${digest} WHERE ${when}
    AND NOT EXISTS (SELECT 1 FROM gc_manifest_queue WHERE repository_id = ${repo} AND digest = ${digest});`;

export const GC_SCHEMA = `
CREATE TABLE gc_blob_queue (digest TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE gc_manifest_queue (
  repository_id INTEGER NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (repository_id, digest)
) WITHOUT ROWID;
CREATE TABLE gc_blob_deleting (
  digest TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE gc_blob_writes (
  token TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  started_at BIGINT NOT NULL
);
CREATE INDEX gc_blob_writes_digest ON gc_blob_writes(digest);
CREATE TABLE gc_runs (
  id INTEGER PRIMARY KEY,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  trigger TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  node TEXT NOT NULL,
  report TEXT
);
CREATE INDEX manifests_digest ON manifests(digest);
CREATE INDEX IF NOT EXISTS tags_manifest ON tags(repository_id, manifest_digest);

CREATE TRIGGER gc_link_added AFTER INSERT ON repository_blobs BEGIN
  ${queueBlob('NEW.digest')}
END;
CREATE TRIGGER gc_link_removed AFTER DELETE ON repository_blobs BEGIN
  ${queueBlob('OLD.digest')}
END;
CREATE TRIGGER gc_reference_removed AFTER DELETE ON manifest_references BEGIN
  ${queueBlob('OLD.child_digest')}
  ${queueManifest('OLD.repository_id', 'OLD.child_digest', "OLD.kind = 'manifest'")}
END;
CREATE TRIGGER gc_manifest_added AFTER INSERT ON manifests BEGIN
  ${queueManifest('NEW.repository_id', 'NEW.digest')}
END;
CREATE TRIGGER gc_manifest_removed AFTER DELETE ON manifests BEGIN
  ${queueBlob('OLD.digest')}
  INSERT INTO gc_manifest_queue (repository_id, digest)
    SELECT m.repository_id, m.digest FROM manifests m WHERE m.repository_id = OLD.repository_id AND m.subject_digest = OLD.digest
    AND NOT EXISTS (SELECT 1 FROM gc_manifest_queue q WHERE q.repository_id = m.repository_id AND q.digest = m.digest);
END;
CREATE TRIGGER gc_tag_removed AFTER DELETE ON tags BEGIN
  ${queueManifest('OLD.repository_id', 'OLD.manifest_digest')}
END;
CREATE TRIGGER gc_tag_moved AFTER UPDATE OF manifest_digest ON tags WHEN OLD.manifest_digest <> NEW.manifest_digest BEGIN
  ${queueManifest('OLD.repository_id', 'OLD.manifest_digest')}
END;

INSERT OR IGNORE INTO gc_blob_queue (digest) SELECT digest FROM blobs;
INSERT OR IGNORE INTO gc_manifest_queue (repository_id, digest) SELECT repository_id, digest FROM manifests;
`;
