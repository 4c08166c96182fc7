/**
 * Migration 5: the search index in the meta store's database. `repository_info` holds what
 * discovery shows (descriptions, star and pull counts, the official and automated flags) for every
 * repository that ever held a manifest; `repository_search` is an FTS5 index over its name and
 * short description (external content, kept in step by triggers); `repository_stars` says who
 * starred what. `repository_info.visibility` copies `repository_settings.visibility` (triggers again)
 * so that the visibility filter is a column test on the matched rows, not a join per row.
 *
 * The registry's own writes reach the index through triggers on `manifests` and `repositories`, so
 * every path that pushes or deletes (the registry, the mirror, garbage collection) updates it in
 * the same transaction: a pushed repository is findable when the push is acknowledged. On
 * PostgreSQL the same shape maps to a `tsvector` column with a GIN index and PL/pgSQL triggers;
 * only this file and the FTS query in search-index.ts are SQLite's.
 */

/** The namespace of `repositories.name` in SQL (the first component, '' for one-component names). */
export const NAMESPACE = `CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE '' END`;
/** The last component of the name: strip every trailing character that is not a slash. */
export const SHORT_NAME = `substr(r.name, length(rtrim(r.name, replace(r.name, '/', ''))) + 1)`;
/** The visibility recorded by access control (repository_settings), NULL for none yet (the default applies). */
export const VISIBILITY = `(SELECT s.visibility FROM repository_settings s WHERE s.name = r.name)`;
export const OFFICIAL = `CASE WHEN instr(r.name, '/') = 0 OR substr(r.name, 1, 8) = 'library/' THEN 1 ELSE 0 END`;

export const SEARCH_SCHEMA = `
CREATE TABLE repository_info (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  namespace TEXT NOT NULL,
  short_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  full_description TEXT NOT NULL DEFAULT '',
  star_count INTEGER NOT NULL DEFAULT 0,
  pull_count BIGINT NOT NULL DEFAULT 0,
  is_official INTEGER NOT NULL DEFAULT 0,
  is_automated INTEGER NOT NULL DEFAULT 0,
  visibility TEXT,
  listed INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE INDEX repository_info_stars ON repository_info(listed, star_count DESC, pull_count DESC, name);
CREATE INDEX repository_info_namespace ON repository_info(namespace, listed);
CREATE TABLE repository_stars (
  repository TEXT NOT NULL,
  user_name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repository, user_name)
);
CREATE INDEX repository_stars_user ON repository_stars(user_name);
CREATE VIRTUAL TABLE repository_search USING fts5(name, description, content='repository_info', content_rowid='id');
CREATE TRIGGER repository_info_ai AFTER INSERT ON repository_info BEGIN
  INSERT INTO repository_search(rowid, name, description) VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER repository_info_ad AFTER DELETE ON repository_info BEGIN
  INSERT INTO repository_search(repository_search, rowid, name, description) VALUES ('delete', old.id, old.name, old.description);
END;
CREATE TRIGGER repository_info_au AFTER UPDATE OF name, description ON repository_info BEGIN
  INSERT INTO repository_search(repository_search, rowid, name, description) VALUES ('delete', old.id, old.name, old.description);
  INSERT INTO repository_search(rowid, name, description) VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER manifests_search_ai AFTER INSERT ON manifests BEGIN
  INSERT INTO repository_info (name, namespace, short_name, is_official, visibility, listed, updated_at)
    SELECT r.name, ${NAMESPACE}, ${SHORT_NAME}, ${OFFICIAL}, ${VISIBILITY}, 1, r.updated_at FROM repositories r WHERE r.id = new.repository_id
    ON CONFLICT (name) DO UPDATE SET listed = 1;
END;
CREATE TRIGGER manifests_search_ad AFTER DELETE ON manifests BEGIN
  UPDATE repository_info SET listed = 0
    WHERE name = (SELECT name FROM repositories WHERE id = old.repository_id)
      AND NOT EXISTS (SELECT 1 FROM manifests WHERE repository_id = old.repository_id);
END;
CREATE TRIGGER repositories_search_au AFTER UPDATE OF updated_at ON repositories BEGIN
  UPDATE repository_info SET updated_at = new.updated_at WHERE name = new.name;
END;
CREATE TRIGGER repository_settings_search_ai AFTER INSERT ON repository_settings BEGIN
  UPDATE repository_info SET visibility = new.visibility WHERE name = new.name;
END;
CREATE TRIGGER repository_settings_search_au AFTER UPDATE OF visibility ON repository_settings BEGIN
  UPDATE repository_info SET visibility = new.visibility WHERE name = new.name;
END;
CREATE TRIGGER repository_settings_search_ad AFTER DELETE ON repository_settings BEGIN
  UPDATE repository_info SET visibility = NULL WHERE name = old.name;
END;
CREATE TRIGGER repositories_search_ad AFTER DELETE ON repositories BEGIN
  UPDATE repository_info SET listed = 0 WHERE name = old.name;
END;
INSERT INTO repository_info (name, namespace, short_name, is_official, visibility, listed, updated_at)
  SELECT r.name, ${NAMESPACE}, ${SHORT_NAME}, ${OFFICIAL}, ${VISIBILITY}, 1, r.updated_at FROM repositories r
  WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id);
`;
