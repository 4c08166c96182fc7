/**
 * SQLite's counters of namespace usage (meta/storage-usage.ts, migration 15), kept by triggers on
 * repository_blobs so that a namespace's bytes are a few rows read however many links it holds (a
 * quota's check, registry/quota.ts), not a sum over its links (1.7 s for a namespace of 1,000,000
 * links, measured). postgres/schema/usage-counters.ts is its twin.
 *
 * usage_links holds one row per (namespace, distinct blob linked there): how many of the
 * namespace's repositories link it, and the blob's size; usage_namespaces the sum of those sizes
 * and their number, in shards (below; no row when none: both tables are a function of the links
 * alone). They count exactly what the SUM over repository_blobs counted: a namespace is a
 * repository's first name component, `library` for a one-component name (usageNamespaceOf), and
 * manifests are links like layers. A link removed for any reason (an unlink, a manifest deleted,
 * garbage collection's marks, fsck's repair) counts down; a deleted repository's links go first
 * (the BEFORE trigger), while the name they count under can still be read. Repository names never
 * change (no statement renames one). The migration counts the links already there.
 */
import { OFFICIAL_NAMESPACE, USAGE_SHARD_AT } from '../storage-usage.ts';

/*
 * usage_namespaces keeps a namespace's total in 16 rows, one per first hex digit of the digests'
 * hash (USAGE_SHARD_AT): on PostgreSQL, pushes of different blobs into one namespace would
 * otherwise all wait on one row until they commit; a read sums at most 16 rows. The same on
 * SQLite, so that the twins' tables hold the same rows (berth migrate's test compares them).
 */

/** The namespace of repository `id` (usageNamespaceOf in SQL). */
const ns = (id: string): string =>
  `(SELECT CASE WHEN instr(name, '/') > 0 THEN substr(name, 1, instr(name, '/') - 1) ELSE '${OFFICIAL_NAMESPACE}' END FROM repositories WHERE id = ${id})`;

/** A link's row of usage_namespaces: its namespace's, in the shard of its digest. */
const nsRow = (row: string): string => `namespace = ${ns(`${row}.repository_id`)} AND shard = substr(${row}.digest, ${USAGE_SHARD_AT}, 1)`;

/*
 * No conflict clauses: a trigger takes the conflict handling of the statement that fires it (an
 * upsert's), so rows are inserted only when absent, and bytes are counted before the row exists.
 */
const added = (row: string): string => `
  INSERT INTO usage_namespaces (namespace, shard, bytes, blobs) SELECT ${ns(`${row}.repository_id`)}, substr(${row}.digest, ${USAGE_SHARD_AT}, 1), 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM usage_namespaces WHERE ${nsRow(row)});
  UPDATE usage_namespaces SET bytes = bytes + (SELECT size FROM blobs WHERE digest = ${row}.digest), blobs = blobs + 1
    WHERE ${nsRow(row)} AND EXISTS (SELECT 1 FROM blobs WHERE digest = ${row}.digest)
    AND NOT EXISTS (SELECT 1 FROM usage_links WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest);
  UPDATE usage_links SET links = links + 1 WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest;
  INSERT INTO usage_links (namespace, digest, links, size) SELECT ${ns(`${row}.repository_id`)}, digest, 1, size FROM blobs
    WHERE digest = ${row}.digest AND NOT EXISTS (SELECT 1 FROM usage_links WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest);`;

const removed = (row: string): string => `
  UPDATE usage_links SET links = links - 1 WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest;
  UPDATE usage_namespaces SET
    bytes = bytes - (SELECT size FROM usage_links WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest),
    blobs = blobs - 1
    WHERE ${nsRow(row)}
    AND EXISTS (SELECT 1 FROM usage_links WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest AND links = 0);
  DELETE FROM usage_links WHERE namespace = ${ns(`${row}.repository_id`)} AND digest = ${row}.digest AND links = 0;
  DELETE FROM usage_namespaces WHERE ${nsRow(row)} AND blobs = 0;`;

/** usageNamespaceOf(r.name) over a joined repository r, for the initial count. */
const NAMESPACE_OF_R = `CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE '${OFFICIAL_NAMESPACE}' END`;

export const USAGE_COUNTERS_SCHEMA = `
CREATE TABLE usage_links (
  namespace TEXT NOT NULL,
  digest TEXT NOT NULL,
  links INTEGER NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (namespace, digest)
) WITHOUT ROWID;
CREATE TABLE usage_namespaces (
  namespace TEXT NOT NULL,
  shard TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  blobs INTEGER NOT NULL,
  PRIMARY KEY (namespace, shard)
) WITHOUT ROWID;

CREATE TRIGGER usage_link_added AFTER INSERT ON repository_blobs BEGIN${added('NEW')}
END;
CREATE TRIGGER usage_link_removed AFTER DELETE ON repository_blobs BEGIN${removed('OLD')}
END;
CREATE TRIGGER usage_link_changed AFTER UPDATE OF repository_id, digest ON repository_blobs BEGIN${removed('OLD')}${added('NEW')}
END;
CREATE TRIGGER usage_repository_removed BEFORE DELETE ON repositories BEGIN
  DELETE FROM repository_blobs WHERE repository_id = OLD.id;
END;

INSERT INTO usage_links (namespace, digest, links, size)
  SELECT ${NAMESPACE_OF_R}, rb.digest, COUNT(*), MAX(b.size) FROM repository_blobs rb
  JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest GROUP BY 1, 2;
INSERT INTO usage_namespaces (namespace, shard, bytes, blobs)
  SELECT namespace, substr(digest, ${USAGE_SHARD_AT}, 1), SUM(size), COUNT(*) FROM usage_links GROUP BY 1, 2;
`;
