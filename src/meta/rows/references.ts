/**
 * What still holds a blob link or a manifest of a repository, asked by the unlink and the delete
 * in their own transactions (after their DELETE, which a StillReferencedError rolls back): the
 * same SQL on SQLite and PostgreSQL (named parameters). Only the repository's own manifests
 * count: references never cross repositories. The first holder in digest order is named.
 */
export const REFERENCE_SQL = {
  /** A manifest referencing the blob (config, layer or child), or the manifest that is the blob. */
  blobHolder: `SELECT digest FROM (
      SELECT r.manifest_digest AS digest FROM manifest_references r WHERE r.repository_id = @repositoryId AND r.child_digest = @digest
      UNION ALL
      SELECT m.digest FROM manifests m WHERE m.repository_id = @repositoryId AND m.digest = @digest
    ) AS holders ORDER BY digest LIMIT 1`,
  /** An index (or manifest list) listing the manifest as a child. */
  parentOf: `SELECT r.manifest_digest AS digest FROM manifest_references r
    WHERE r.repository_id = @repositoryId AND r.child_digest = @digest AND r.kind = 'manifest'
    ORDER BY r.manifest_digest LIMIT 1`,
} as const;
