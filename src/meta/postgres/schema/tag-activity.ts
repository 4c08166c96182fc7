/**
 * PostgreSQL's schema of tag activity (migration 12), the twin of sqlite/tag-activity-schema.ts:
 * tags.pulled_at, and manifest_untagged recording (with the server's clock) when a manifest lost
 * its last tag. The trigger writes its own table only, so a tag delete or move locks no manifest row.
 */
export const TAG_ACTIVITY_SCHEMA = `
ALTER TABLE tags ADD COLUMN pulled_at BIGINT;
CREATE TABLE manifest_untagged (
  repository_id BIGINT NOT NULL,
  digest TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, digest)
);
CREATE FUNCTION retention_tag_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = OLD.repository_id AND t.manifest_digest = OLD.manifest_digest) THEN
    INSERT INTO manifest_untagged (repository_id, digest, at)
      VALUES (OLD.repository_id, OLD.manifest_digest, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
      ON CONFLICT (repository_id, digest) DO UPDATE SET at = excluded.at;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER retention_tag_removed AFTER DELETE ON tags FOR EACH ROW EXECUTE FUNCTION retention_tag_gone();
CREATE TRIGGER retention_tag_moved AFTER UPDATE OF manifest_digest ON tags
  FOR EACH ROW WHEN (OLD.manifest_digest IS DISTINCT FROM NEW.manifest_digest) EXECUTE FUNCTION retention_tag_gone();
`;
