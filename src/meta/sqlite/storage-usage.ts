/**
 * Storage usage on SQLite: the figures are aggregates over repository_blobs and blobs, computed in
 * SQL in one read transaction (no row per link reaches JavaScript). The namespaces' figure scans
 * and de-duplicates every (namespace, blob) link: about 4 s for a million links on a small VM. So
 * for a database file it runs in a worker thread on a read-only connection of its own (WAL lets it
 * read beside the registry's writes) and never blocks the event loop; concurrent asks share one
 * run. Samples go to storage_samples (migration 6), one row per namespace and one with namespace
 * '' for the total. The SQL is portable but for `instr` (`strpos` on PostgreSQL).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { OFFICIAL_NAMESPACE, type NamespaceUsage, type StorageSample, type StorageUsage, type StorageUsageStore } from '../storage-usage.ts';

/** usageNamespaceOf(r.name) in SQL: the first component, 'library' for a one-component name. */
const NAMESPACE = `CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE '${OFFICIAL_NAMESPACE}' END`;

/** The row of a sample holding the registry's total. */
const TOTAL = '';

const TOTAL_SQL = `SELECT COUNT(*) AS blobs, COALESCE(SUM(b.size), 0) AS bytes FROM blobs b
  WHERE EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)`;

const NAMESPACES_SQL = `
WITH linked AS (
  SELECT ${NAMESPACE} AS namespace, rb.digest, b.size FROM repository_blobs rb
  JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest GROUP BY 1, 2
),
bytes AS (
  SELECT namespace, SUM(size) AS bytes FROM linked GROUP BY namespace
),
repos AS (
  SELECT ${NAMESPACE} AS namespace, COUNT(*) AS repositories FROM repositories r
  WHERE EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.repository_id = r.id) GROUP BY 1
)
SELECT bytes.namespace, bytes.bytes, repos.repositories FROM bytes JOIN repos ON repos.namespace = bytes.namespace
ORDER BY bytes.bytes DESC, bytes.namespace`;

function prepare(db: Database.Database) {
  return {
    // the counters the triggers keep (usage-schema.ts): a few rows each
    namespaceBytes: db.prepare<[string], { bytes: number }>('SELECT COALESCE(SUM(bytes), 0) AS bytes FROM usage_namespaces WHERE namespace = ?'),
    namespaceLinks: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM usage_links WHERE namespace = ? AND digest = ?'),
    total: db.prepare<[], { blobs: number; bytes: number }>(TOTAL_SQL),
    namespaces: db.prepare<[], NamespaceUsage>(NAMESPACES_SQL),
    insert: db.prepare<[number, string, number]>('INSERT INTO storage_samples (at, namespace, bytes) VALUES (?, ?, ?)'),
    clear: db.prepare<[number]>('DELETE FROM storage_samples WHERE at = ?'),
    since: db.prepare<[number], { at: number; namespace: string; bytes: number }>(
      'SELECT at, namespace, bytes FROM storage_samples WHERE at >= ? ORDER BY at, namespace',
    ),
    prune: db.prepare<[number]>('DELETE FROM storage_samples WHERE at < ?'),
  };
}

/** The worker: CommonJS evaluated from this string, so it runs the same from src/ (tsx) and dist/. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const answer = db.transaction(() => ({
    total: db.prepare(workerData.totalSql).get(),
    namespaces: db.prepare(workerData.namespacesSql).all(),
  }))();
  parentPort.postMessage({ answer });
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
} finally {
  if (db) db.close();
}
`;

interface Computed {
  total: { blobs: number; bytes: number } | undefined;
  namespaces: NamespaceUsage[];
}

function inWorker(file: string): Promise<Computed> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file, totalSql: TOTAL_SQL, namespacesSql: NAMESPACES_SQL },
    });
    worker.once('message', (m: { answer?: Computed; error?: string }) => (m.answer !== undefined ? resolve(m.answer) : reject(new Error(`storage usage: ${m.error}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`storage usage worker exited with code ${code}`)));
  });
}

export class SqliteStorageUsage implements StorageUsageStore {
  private readonly st: ReturnType<typeof prepare>;
  private pending: Promise<StorageUsage> | undefined;

  constructor(private readonly db: Database.Database) {
    this.st = prepare(db);
  }

  async usage(): Promise<StorageUsage> {
    this.pending ??= this.compute().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async namespaceUsage(namespace: string): Promise<number> {
    return this.st.namespaceBytes.get(namespace)?.bytes ?? 0;
  }

  async namespaceLinks(namespace: string, digest: string): Promise<boolean> {
    return this.st.namespaceLinks.get(namespace, digest) !== undefined;
  }

  private async compute(): Promise<StorageUsage> {
    // One read transaction, so the total and the namespaces describe the same moment.
    const computed: Computed = this.db.memory
      ? this.db.transaction(() => ({ total: this.st.total.get(), namespaces: this.st.namespaces.all() })).deferred()
      : await inWorker(this.db.name);
    const total = computed.total ?? { blobs: 0, bytes: 0 };
    return { total: { bytes: total.bytes, blobs: total.blobs }, namespaces: computed.namespaces };
  }

  async recordSample(sample: StorageSample): Promise<void> {
    this.db.transaction(() => {
      this.st.clear.run(sample.at);
      this.st.insert.run(sample.at, TOTAL, sample.total);
      for (const [namespace, bytes] of Object.entries(sample.namespaces)) this.st.insert.run(sample.at, namespace, bytes);
    })();
  }

  async samples(since: number): Promise<StorageSample[]> {
    const samples: StorageSample[] = [];
    let current: StorageSample | undefined;
    for (const row of this.st.since.all(since)) {
      if (current?.at !== row.at) samples.push((current = { at: row.at, total: 0, namespaces: {} }));
      if (row.namespace === TOTAL) current.total = row.bytes;
      else current.namespaces[row.namespace] = row.bytes;
    }
    return samples;
  }

  async pruneSamples(before: number): Promise<void> {
    this.st.prune.run(before);
  }
}
