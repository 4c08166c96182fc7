/**
 * Storage usage on PostgreSQL, the twin of sqlite/storage-usage.ts: the same aggregates over
 * repository_blobs and blobs, computed by the server in one REPEATABLE READ snapshot (so the
 * total and the namespaces describe the same moment) and, as the server does the work, without a
 * worker thread; concurrent asks on a node still share one run. Samples go to storage_samples
 * (schema/usage.ts), one row per namespace and one with namespace '' for the total; a sample
 * replaces one taken at the same time even when two nodes record it at once.
 */
import { OFFICIAL_NAMESPACE, type NamespaceUsage, type StorageSample, type StorageUsage, type StorageUsageStore } from '../storage-usage.ts';
import type { PgDatabase } from './database.ts';

/** usageNamespaceOf(r.name) in SQL: the first component, 'library' for a one-component name. */
const NAMESPACE = `CASE WHEN strpos(r.name, '/') > 0 THEN split_part(r.name, '/', 1) ELSE '${OFFICIAL_NAMESPACE}' END`;

/** The row of a sample holding the registry's total. */
const TOTAL = '';

const TOTAL_SQL = `SELECT COUNT(*) AS blobs, COALESCE(SUM(b.size), 0)::bigint AS bytes FROM blobs b
  WHERE EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)`;

const NAMESPACES_SQL = `
WITH linked AS (
  SELECT DISTINCT ${NAMESPACE} AS namespace, rb.digest, b.size FROM repository_blobs rb
  JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
),
bytes AS (
  SELECT namespace, SUM(size)::bigint AS bytes FROM linked GROUP BY namespace
),
repos AS (
  SELECT ${NAMESPACE} AS namespace, COUNT(*) AS repositories FROM repositories r
  WHERE EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.repository_id = r.id) GROUP BY 1
)
SELECT bytes.namespace, bytes.bytes, repos.repositories FROM bytes JOIN repos ON repos.namespace = bytes.namespace
ORDER BY bytes.bytes DESC, bytes.namespace`;

/**
 * Writers of samples one at a time (the mode conflicts with itself, not with readers): two nodes
 * recording a sample at the same time would otherwise each delete nothing and insert both.
 */
const LOCK_SAMPLES = 'LOCK TABLE storage_samples IN SHARE ROW EXCLUSIVE MODE';

const SQL = {
  // the counters the triggers keep (schema/usage-counters.ts): a few rows each
  namespaceBytes: 'SELECT COALESCE(SUM(bytes), 0)::bigint AS bytes FROM usage_namespaces WHERE namespace = $1',
  namespaceLinks: 'SELECT 1 AS one FROM usage_links WHERE namespace = $1 AND digest = $2',
  clear: 'DELETE FROM storage_samples WHERE at = $1',
  insert: `INSERT INTO storage_samples (at, namespace, bytes)
    SELECT $1, s.namespace, s.bytes FROM unnest($2::text[], $3::bigint[]) AS s(namespace, bytes)`,
  since: 'SELECT at, namespace, bytes FROM storage_samples WHERE at >= $1 ORDER BY at, namespace',
  prune: 'DELETE FROM storage_samples WHERE at < $1',
};

export class PgStorageUsage implements StorageUsageStore {
  private pending: Promise<StorageUsage> | undefined;

  constructor(private readonly db: PgDatabase) {}

  async usage(): Promise<StorageUsage> {
    this.pending ??= this.compute().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async namespaceUsage(namespace: string): Promise<number> {
    return Number((await this.db.one<{ bytes: number | string }>(SQL.namespaceBytes, [namespace]))?.bytes ?? 0);
  }

  async namespaceLinks(namespace: string, digest: string): Promise<boolean> {
    return (await this.db.one(SQL.namespaceLinks, [namespace, digest])) !== undefined;
  }

  private compute(): Promise<StorageUsage> {
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const total = (await this.db.one<{ blobs: number; bytes: number }>(TOTAL_SQL, [], tx)) ?? { blobs: 0, bytes: 0 };
      const namespaces = await this.db.rows<NamespaceUsage>(NAMESPACES_SQL, [], tx);
      return { total: { bytes: total.bytes, blobs: total.blobs }, namespaces };
    });
  }

  async recordSample(sample: StorageSample): Promise<void> {
    const entries = [[TOTAL, sample.total] as const, ...Object.entries(sample.namespaces)];
    await this.db.transaction(async (tx) => {
      await tx.query(LOCK_SAMPLES);
      await tx.query(SQL.clear, [sample.at]);
      await tx.query(SQL.insert, [sample.at, entries.map(([namespace]) => namespace), entries.map(([, bytes]) => bytes)]);
    });
  }

  async samples(since: number): Promise<StorageSample[]> {
    const samples: StorageSample[] = [];
    let current: StorageSample | undefined;
    for (const row of await this.db.rows<{ at: number; namespace: string; bytes: number }>(SQL.since, [since])) {
      if (current?.at !== row.at) samples.push((current = { at: row.at, total: 0, namespaces: {} }));
      if (row.namespace === TOTAL) current.total = row.bytes;
      else current.namespaces[row.namespace] = row.bytes;
    }
    return samples;
  }

  async pruneSamples(before: number): Promise<void> {
    await this.db.query(SQL.prune, [before]);
  }
}
