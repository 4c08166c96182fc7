/**
 * The SQL of the blob inventory (inventory.ts), the same on SQLite and PostgreSQL; each takes the
 * placeholders of its dialect (`?` or `$1`).
 */

/** The counts of BlobInventory.totals; `sum` is the sum of sizes in the dialect's integer type. */
export const TOTALS_SQL = (sum: string): string =>
  `SELECT COUNT(*) AS blobs, ${sum} AS bytes, (SELECT COUNT(*) FROM blob_journal) AS journaled FROM blobs`;

/** Everything that needs a digest (BlobUse), given three placeholders for the same digest. */
export const USES_SQL = (a: string, b: string, c: string): string => `
SELECT kind, repository, manifest FROM (
SELECT 'manifest' AS kind, r.name AS repository, m.digest AS manifest
  FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE m.digest = ${a}
UNION ALL
SELECT CASE WHEN x.kind = 'manifest' THEN 'child' ELSE 'blob' END, r.name, x.manifest_digest
  FROM manifest_references x JOIN repositories r ON r.id = x.repository_id WHERE x.child_digest = ${b}
UNION ALL
SELECT 'link', r.name, NULL
  FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id WHERE l.digest = ${c}
) uses ORDER BY repository, COALESCE(manifest, ''), kind`;

/** References to a digest with no record: a blob with no blobs row, a child that is no manifest of the repository. */
export const DANGLING_SQL = (limit: string): string => `
SELECT r.name AS repository, x.manifest_digest AS manifest, x.child_digest AS target,
       CASE WHEN x.kind = 'manifest' THEN 'child' ELSE 'blob' END AS kind
  FROM manifest_references x JOIN repositories r ON r.id = x.repository_id
 WHERE (x.kind = 'manifest' AND NOT EXISTS (SELECT 1 FROM manifests c WHERE c.repository_id = x.repository_id AND c.digest = x.child_digest))
    OR (x.kind <> 'manifest' AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = x.child_digest))
 ORDER BY r.name, x.manifest_digest, x.child_digest
 LIMIT ${limit}`;

/** A row while garbage collection deletes the digest's bytes (one placeholder). */
export const COLLECTING_SQL = (digest: string): string => `SELECT 1 AS one FROM gc_blob_deleting WHERE digest = ${digest}`;

export const FORGET_SQL = {
  /** A row when a manifest is the digest or references it (two placeholders for the digest). */
  needed: (a: string, b: string): string =>
    `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM manifests WHERE digest = ${a}) OR EXISTS (SELECT 1 FROM manifest_references WHERE child_digest = ${b})`,
  /** In this order (the links and journal entry before the record they refer to); the last one's count says whether there was a record. */
  deletes: ['DELETE FROM repository_blobs WHERE digest = $1', 'DELETE FROM blob_journal WHERE digest = $1', 'DELETE FROM blobs WHERE digest = $1'],
} as const;
