/**
 * Namespace usage counters on PostgreSQL, the twin of sqlite/usage-schema.ts (read its header):
 * usage_links (namespace, distinct blob linked there: how many links, its size) and
 * usage_namespaces (their bytes and number, in 16 shards; no row when none), kept by triggers on
 * repository_blobs, so a namespace's bytes are at most 16 rows read.
 *
 * The triggers run once per statement over its transition table, not once per row: a statement
 * that links or unlinks many rows (berth migrate's copy, a collection's marks) updates each of a
 * namespace's rows once, where a row trigger would update one once a link, and every update of one
 * row in one transaction leaves a version the next must step over (quadratic). Nodes linking at
 * once are counted right by the upserts: the second waits on the first's row and adds to it.
 * Locks: a link statement takes its usage_links rows, then its namespaces' shard rows, and holds
 * them to commit; a push links once per transaction, so pushes only wait on each other, in one
 * shard of one namespace.
 */
import { OFFICIAL_NAMESPACE, USAGE_SHARD_AT } from '../../storage-usage.ts';

/** usageNamespaceOf(r.name) over a joined repository r. */
const NAMESPACE_OF_R = `CASE WHEN strpos(r.name, '/') > 0 THEN split_part(r.name, '/', 1) ELSE '${OFFICIAL_NAMESPACE}' END`;

/** The links of a transition table by (namespace, digest): how many, and the blob's size. */
const grouped = (rows: string): string => `SELECT ${NAMESPACE_OF_R} AS namespace, x.digest, COUNT(*) AS links, MAX(b.size) AS size
    FROM ${rows} x JOIN repositories r ON r.id = x.repository_id JOIN blobs b ON b.digest = x.digest GROUP BY 1, 2`;

/** A row of usage_links is new to the namespace when it holds just the links the statement added (none is left at 0). */
const added = (rows: string): string => `
  WITH g AS (${grouped(rows)}),
  counted AS (
    INSERT INTO usage_links AS l (namespace, digest, links, size) SELECT namespace, digest, links, size FROM g
    ON CONFLICT (namespace, digest) DO UPDATE SET links = l.links + EXCLUDED.links
    RETURNING l.namespace, l.digest, l.size, l.links
  )
  INSERT INTO usage_namespaces AS n (namespace, shard, bytes, blobs)
    SELECT c.namespace, substr(c.digest, ${USAGE_SHARD_AT}, 1), SUM(c.size), COUNT(*)
    FROM counted c JOIN g ON g.namespace = c.namespace AND g.digest = c.digest WHERE c.links = g.links GROUP BY 1, 2
    ON CONFLICT (namespace, shard) DO UPDATE SET bytes = n.bytes + EXCLUDED.bytes, blobs = n.blobs + EXCLUDED.blobs;`;

const removed = (rows: string): string => `
  WITH counted AS (
    UPDATE usage_links AS l SET links = l.links - g.links FROM (${grouped(rows)}) AS g
    WHERE l.namespace = g.namespace AND l.digest = g.digest RETURNING l.namespace, l.digest, l.size, l.links
  )
  UPDATE usage_namespaces AS n SET bytes = n.bytes - z.bytes, blobs = n.blobs - z.blobs
    FROM (SELECT namespace, substr(digest, ${USAGE_SHARD_AT}, 1) AS shard, SUM(size) AS bytes, COUNT(*) AS blobs
      FROM counted WHERE links = 0 GROUP BY 1, 2) AS z
    WHERE n.namespace = z.namespace AND n.shard = z.shard;
  DELETE FROM usage_links WHERE links = 0;
  DELETE FROM usage_namespaces WHERE blobs = 0;`;

const statementTrigger = (name: string, event: string, referencing: string, body: string): string => `
CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${body}
  RETURN NULL;
END $$;
CREATE TRIGGER ${name} AFTER ${event} ON repository_blobs REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${name}();`;

export const USAGE_COUNTERS_SCHEMA = `
CREATE TABLE usage_links (
  namespace TEXT COLLATE "C" NOT NULL,
  digest TEXT COLLATE "C" NOT NULL,
  links INTEGER NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (namespace, digest)
);
-- the rows a statement brought to 0, found and deleted by the same transaction's next statement
CREATE INDEX usage_links_none ON usage_links(namespace) WHERE links = 0;
-- a namespace's total in shards by the digest's first hex digit (USAGE_SHARD_AT), so
-- pushes of different blobs into one namespace do not all wait on one row until they commit
CREATE TABLE usage_namespaces (
  namespace TEXT COLLATE "C" NOT NULL,
  shard TEXT COLLATE "C" NOT NULL,
  bytes BIGINT NOT NULL,
  blobs BIGINT NOT NULL,
  PRIMARY KEY (namespace, shard)
);
CREATE INDEX usage_namespaces_none ON usage_namespaces(namespace) WHERE blobs = 0;
${statementTrigger('usage_links_added', 'INSERT', 'NEW TABLE AS added_rows', added('added_rows'))}
${statementTrigger('usage_links_removed', 'DELETE', 'OLD TABLE AS removed_rows', removed('removed_rows'))}
${statementTrigger('usage_links_changed', 'UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows', `${removed('old_rows')}${added('new_rows')}`)}
-- a deleted repository's links go first, while the name they count under can still be read
CREATE FUNCTION usage_repository_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM repository_blobs WHERE repository_id = OLD.id;
  RETURN OLD;
END $$;
CREATE TRIGGER usage_repository_removed BEFORE DELETE ON repositories FOR EACH ROW EXECUTE FUNCTION usage_repository_removed();

INSERT INTO usage_links (namespace, digest, links, size) ${grouped('repository_blobs')};
INSERT INTO usage_namespaces (namespace, shard, bytes, blobs)
  SELECT namespace, substr(digest, ${USAGE_SHARD_AT}, 1), SUM(size), COUNT(*) FROM usage_links GROUP BY 1, 2;
`;
