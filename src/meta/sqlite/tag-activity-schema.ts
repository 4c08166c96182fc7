/**
 * SQLite's schema of tag activity (meta/tag-activity.ts, migration 14): when each tag was last
 * pulled, and when each manifest lost its last tag, so that retention's delete.untaggedafter counts
 * from that moment and not from the manifest's push (a manifest pushed a month ago whose tag moved
 * away today is untagged since today). A trigger records the moment with the database's clock; a
 * row outlives its manifest (readers take the later of it and the manifest's push), and
 * pruneUntagged removes those. postgres/schema/tag-activity.ts is its twin.
 */
export const TAG_ACTIVITY_SCHEMA = `
ALTER TABLE tags ADD COLUMN pulled_at BIGINT;
CREATE TABLE manifest_untagged (
  repository_id INTEGER NOT NULL,
  digest TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, digest)
) WITHOUT ROWID;
CREATE TRIGGER retention_tag_removed AFTER DELETE ON tags
WHEN NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = OLD.repository_id AND t.manifest_digest = OLD.manifest_digest) BEGIN
  INSERT INTO manifest_untagged (repository_id, digest, at) VALUES (OLD.repository_id, OLD.manifest_digest, CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (repository_id, digest) DO UPDATE SET at = excluded.at;
END;
CREATE TRIGGER retention_tag_moved AFTER UPDATE OF manifest_digest ON tags
WHEN OLD.manifest_digest <> NEW.manifest_digest
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = OLD.repository_id AND t.manifest_digest = OLD.manifest_digest) BEGIN
  INSERT INTO manifest_untagged (repository_id, digest, at) VALUES (OLD.repository_id, OLD.manifest_digest, CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (repository_id, digest) DO UPDATE SET at = excluded.at;
END;
`;
