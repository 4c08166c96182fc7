/**
 * The table phase of `berth migrate`: every row of the source's SQLite tables into the same
 * tables of the PostgreSQL schema (postgres/schema/*.ts mirrors sqlite/migrations.ts column for
 * column), in dependency order, in one transaction, so the target moves from one consistent
 * state of the source to the next. Values are kept (explicit ids too; the identity sequences are
 * moved past them after each table); 0/1 flags become booleans where PostgreSQL has BOOLEAN.
 *
 * Idempotent: an upsert on the primary key that writes only rows that differ, so a second run
 * writes only what the still-running source changed since (moved tags, new pushes, counts); and
 * rows whose key the source no longer holds (a deleted tag, a collected blob, a revoked token) are
 * deleted first, children before parents, so the run with the source read-only leaves the target
 * equal to it. The target is meant to be the new, not yet serving, home of this registry.
 *
 * The search index: repository_info is copied before manifests, so the triggers on manifests find
 * each repository's row (with its description, stars and pull count) and only mark it listed; it
 * is copied again last, so the target's rows end equal to the source's whatever the triggers did
 * (as is manifest_untagged, which the triggers on tags write: TRIGGER_WRITTEN). Administrators'
 * settings (quotas, immutable tags, retention policies) are copied first.
 */
import type { Queryable } from '../meta/postgres/database.ts';
import type { Progress } from './progress.ts';
import { quote, type SourceSnapshot, type SqlRow } from './source.ts';

/** The tables copied, parents before children. */
export const COPIED_TABLES: readonly string[] = [
  'settings',
  'namespaces',
  'users',
  'org_members',
  'teams',
  'team_members',
  'team_permissions',
  'repository_settings',
  'access_tokens',
  'repositories',
  'blobs',
  'repository_blobs',
  'repository_info',
  'manifests',
  'manifest_references',
  'tags',
  'manifest_untagged',
  'repository_stars',
  'storage_samples',
  'event_deliveries',
  'build_rules',
  'builds',
  'build_logs',
  // as they are: a run still running on the source ends as interrupted on the target when its lease lapses
  'replication_runs',
  // the passwords stay sealed: the sealing key is copied with the signing keys (migrate/keys.ts)
  'replication_rules',
];

/** The source's tables deliberately not copied, and why. */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  schema_migrations: 'each database keeps its own migrations',
  uploads: 'uploads in progress are not moved; their clients start them again',
  blob_journal: 'its blobs are copied as files',
  leases: 'job leases are taken again by the nodes',
  repository_search: 'PostgreSQL indexes repository_info itself (tsvector)',
  gc_blob_queue: "the target's triggers queue every blob and manifest copied for review",
  gc_manifest_queue: "the target's triggers queue every blob and manifest copied for review",
  gc_blob_deleting: 'blobs being deleted have no records left to copy; the next collection on the source finishes them',
  gc_blob_writes: "the intents of the source's writers, who do not write to the target",
  gc_runs: "the source's collection history",
  usage_links: "the target's triggers count every link copied (and uncount every link pruned)",
  usage_namespaces: "the target's triggers count every link copied (and uncount every link pruned)",
};

/** Whether a source table is one of NOT_COPIED (FTS5's shadow tables belong to repository_search). */
export function notCopied(table: string): boolean {
  return Object.hasOwn(NOT_COPIED, table) || table.startsWith('repository_search_');
}

/**
 * Tables the target's triggers write into while the others are copied, pruned and copied again
 * last so that they end equal to the source's: repository_info (manifests' triggers list their
 * repositories), manifest_untagged (tags' triggers stamp the manifests a deleted or moved tag
 * leaves untagged with the time of the copy; retention's untaggedafter counts from the source's).
 */
const TRIGGER_WRITTEN = ['repository_info', 'manifest_untagged'];

/** Row changes before writing: a pending delivery's or a running build's lease was the single node's; PostgreSQL nodes claim it anew. */
const TRANSFORMS: Readonly<Record<string, (row: SqlRow) => SqlRow>> = {
  event_deliveries: (row) => (row['delivered_at'] === null ? { ...row, claimed_by: null, claimed_until: null } : row),
  // A build running on the source is queued again on the target (its work directory does not move).
  builds: (row) => (row['status'] === 'running' ? { ...row, status: 'queued', claimed_by: null, claimed_until: null, started_at: null } : row),
};

/** pg_advisory_xact_lock's key for the table phase: "migrt" in ASCII. */
const MIGRATE_LOCK = 0x6d69677274;

interface TargetColumn {
  boolean: boolean;
  identity: boolean;
}

interface TargetTable {
  columns: Map<string, TargetColumn>;
  key: string[];
}

async function targetTable(tx: Queryable, table: string): Promise<TargetTable> {
  const cols = await tx.query<{ column_name: string; data_type: string; is_generated: string; is_identity: string }>(
    'SELECT column_name, data_type, is_generated, is_identity FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
    [table],
  );
  if (cols.rows.length === 0) throw new Error(`the target database has no table ${table}: is its schema migrated?`);
  const columns = new Map<string, TargetColumn>();
  for (const c of cols.rows) {
    if (c.is_generated === 'ALWAYS') continue;
    columns.set(c.column_name, { boolean: c.data_type === 'boolean', identity: c.is_identity === 'YES' });
  }
  const key = await tx.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [table],
  );
  return { columns, key: key.rows.map((r) => r.attname) };
}

/** The upsert of `count` rows of `columns`: writes a row only when it is new or differs. */
function upsertSql(table: string, columns: readonly string[], key: readonly string[], count: number): string {
  const values = Array.from({ length: count }, (_, r) => `(${columns.map((_c, i) => `$${r * columns.length + i + 1}`).join(', ')})`);
  const rest = columns.filter((c) => !key.includes(c));
  const conflict =
    rest.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${rest.map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`).join(', ')}
         WHERE (${rest.map((c) => `t.${quote(c)}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${quote(c)}`).join(', ')})`;
  return `INSERT INTO ${quote(table)} AS t (${columns.map(quote).join(', ')}) VALUES ${values.join(', ')}
    ON CONFLICT (${key.map(quote).join(', ')}) ${conflict}`;
}

export interface TableReport {
  /** Rows in the source. */
  rows: number;
  /** Rows written to the target (new or changed); 0 on a run after a read-only source's last. */
  written: number;
  /** Rows deleted from the target because the source no longer has them. */
  deleted: number;
}

export interface TableCopyOptions {
  source: SourceSnapshot;
  progress: Progress;
}

/** Check that every source table is either copied or deliberately left; the names of the others. */
export function unknownTables(source: SourceSnapshot): string[] {
  return source.tables().filter((t) => !COPIED_TABLES.includes(t) && !notCopied(t));
}

async function copyTable(tx: Queryable, source: SourceSnapshot, table: string, tick: (n: number) => void): Promise<TableReport> {
  const target = await targetTable(tx, table);
  const columns = source.columns(table);
  const missing = columns.filter((c) => !target.columns.has(c));
  if (missing.length > 0) throw new Error(`the target's table ${table} has no column ${missing.join(', ')}`);
  if (target.key.length === 0) throw new Error(`the target's table ${table} has no primary key`);
  const flags = columns.filter((c) => target.columns.get(c)?.boolean === true);
  const transform = TRANSFORMS[table];
  const report: TableReport = { rows: 0, written: 0, deleted: 0 };
  // PostgreSQL takes at most 65535 parameters a statement
  const batch = Math.max(1, Math.min(500, Math.floor(60_000 / columns.length)));
  for (const page of source.pages(table, columns)) {
    for (let from = 0; from < page.length; from += batch) {
      const rows = page.slice(from, from + batch).map((row) => {
        const out = transform === undefined ? row : transform(row);
        for (const c of flags) if (out[c] !== null) out[c] = out[c] !== 0;
        return out;
      });
      const params = rows.flatMap((row) => columns.map((c) => row[c]));
      const result = await tx.query(upsertSql(table, columns, target.key, rows.length), params);
      report.rows += rows.length;
      report.written += result.rowCount ?? 0;
      tick(rows.length);
    }
  }
  for (const [name, column] of target.columns) {
    if (!column.identity) continue;
    // past the ids copied, so the next row PostgreSQL numbers itself does not take one of them
    await tx.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quote(name)}) FROM ${quote(table)}), 0) + 1, false)`, [quote(table), name]);
  }
  return report;
}

/** Delete the rows of `table` whose key the source does not hold. Returns how many. */
async function pruneTable(tx: Queryable, source: SourceSnapshot, table: string): Promise<number> {
  const { key } = await targetTable(tx, table);
  if (key.length === 0) throw new Error(`the target's table ${table} has no primary key`);
  const cols = key.map(quote).join(', ');
  await tx.query('DROP TABLE IF EXISTS pg_temp.migrate_keys');
  await tx.query(`CREATE TEMP TABLE migrate_keys ON COMMIT DROP AS SELECT ${cols} FROM ${quote(table)} WITH NO DATA`);
  for (const page of source.pages(table, key)) {
    const values = page.map((_, r) => `(${key.map((_c, i) => `$${r * key.length + i + 1}`).join(', ')})`);
    await tx.query(`INSERT INTO migrate_keys (${cols}) VALUES ${values.join(', ')}`, page.flatMap((row) => key.map((c) => row[c])));
  }
  const match = key.map((c) => `k.${quote(c)} = t.${quote(c)}`).join(' AND ');
  const result = await tx.query(`DELETE FROM ${quote(table)} AS t WHERE NOT EXISTS (SELECT 1 FROM migrate_keys k WHERE ${match})`);
  return result.rowCount ?? 0;
}

/**
 * Copy every table's rows in one transaction on `db` (dryRun: only count them). Throws, writing
 * nothing, when the source holds a table this berth does not know how to move.
 */
export async function copyTables(db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> }, opts: TableCopyOptions & { dryRun?: boolean }): Promise<Record<string, TableReport>> {
  const unknown = unknownTables(opts.source);
  if (unknown.length > 0) throw new Error(`the source has tables this berth does not know how to migrate: ${unknown.join(', ')} (upgrade berth)`);
  const present = new Set(opts.source.tables());
  const tables = COPIED_TABLES.filter((t) => present.has(t));
  const total = tables.reduce((sum, t) => sum + opts.source.count(t), 0);
  const phase = opts.progress.phase('tables', total, 'rows');
  const reports: Record<string, TableReport> = {};
  if (opts.dryRun === true) {
    for (const t of tables) {
      reports[t] = { rows: opts.source.count(t), written: 0, deleted: 0 };
      phase.tick(reports[t].rows);
    }
  } else {
    await db.transaction(async (tx) => {
      // two runs at once would only wait on each other's rows (or deadlock): one at a time
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      const deleted = new Map<string, number>();
      for (const t of [...tables].reverse()) deleted.set(t, await pruneTable(tx, opts.source, t));
      for (const t of tables) reports[t] = { ...(await copyTable(tx, opts.source, t, (n) => phase.tick(n))), deleted: deleted.get(t) ?? 0 };
      // again, last: whatever the target's triggers made of these rows while the others were copied
      for (const t of TRIGGER_WRITTEN.filter((name) => present.has(name))) {
        const pruned = await pruneTable(tx, opts.source, t);
        const again = await copyTable(tx, opts.source, t, () => undefined);
        const report = reports[t];
        if (report !== undefined) {
          report.written = Math.max(report.written, again.written);
          report.deleted += pruned;
        }
      }
    });
  }
  phase.done();
  return reports;
}
