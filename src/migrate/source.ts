/**
 * The source of `berth migrate`: the SQLite database of a single-node berth, opened read-only and
 * read in one snapshot (a read transaction held for the whole run; WAL lets the running server go
 * on writing meanwhile). Blobs are listed and tables read from the same snapshot, so every row
 * copied refers only to blobs whose bytes were copied first, whatever the server adds meanwhile.
 */
import Database from 'better-sqlite3';

/** A row as better-sqlite3 returns it. */
export type SqlRow = Record<string, unknown>;

export interface SourceBlob {
  digest: string;
  size: number;
}

/** Rows read a page at a time (by rowid), so memory stays flat whatever a table's size. */
const PAGE = 500;

export class SourceSnapshot {
  private readonly db: Database.Database;

  private constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
  }

  /** Open the database read-only and start the snapshot. */
  static open(file: string): SourceSnapshot {
    const source = new SourceSnapshot(file);
    try {
      source.db.exec('BEGIN');
      // a deferred transaction takes its snapshot at its first read
      source.db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      source.db.close();
      throw err;
    }
    return source;
  }

  /** The tables of the database (without SQLite's own and the FTS index's shadow tables). */
  tables(): string[] {
    const rows = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  /** The columns of `table`, in their order. */
  columns(table: string): string[] {
    return (this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name);
  }

  count(table: string): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n;
  }

  /** Every row of `table`, a page at a time, in rowid order (a WITHOUT ROWID table: its primary key's). */
  *pages(table: string, columns: readonly string[]): Generator<SqlRow[]> {
    const key = this.withoutRowidKey(table);
    if (key !== undefined) {
      yield* this.pagesByKey(table, columns, key);
      return;
    }
    const list = columns.map(quote).join(', ');
    const page = this.db.prepare(`SELECT rowid AS "__rowid", ${list} FROM ${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ${PAGE}`);
    let after = -Infinity;
    for (;;) {
      const rows = page.all(after) as SqlRow[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]?.['__rowid'] as number;
      for (const row of rows) delete row['__rowid'];
      yield rows;
      if (rows.length < PAGE) return;
    }
  }

  /** The primary key of a WITHOUT ROWID table (manifest_untagged), which has no rowid to page by; undefined for the others. */
  private withoutRowidKey(table: string): string[] | undefined {
    const schema = this.db.prepare('SELECT sql FROM sqlite_schema WHERE type = ? AND name = ?').get('table', table) as { sql: string } | undefined;
    if (schema === undefined || !/WITHOUT\s+ROWID\s*;?\s*$/i.test(schema.sql)) return undefined;
    const info = this.db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string; pk: number }[];
    return info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  }

  /** Rows a page at a time in key order, each page after the last row's key (row values). */
  private *pagesByKey(table: string, columns: readonly string[], key: readonly string[]): Generator<SqlRow[]> {
    const list = [...new Set([...key, ...columns])].map(quote).join(', ');
    const keys = key.map(quote).join(', ');
    const first = this.db.prepare(`SELECT ${list} FROM ${quote(table)} ORDER BY ${keys} LIMIT ${PAGE}`);
    const next = this.db.prepare(`SELECT ${list} FROM ${quote(table)} WHERE (${keys}) > (${key.map(() => '?').join(', ')}) ORDER BY ${keys} LIMIT ${PAGE}`);
    let last: SqlRow | undefined;
    for (;;) {
      const rows = (last === undefined ? first.all() : next.all(...key.map((k) => last?.[k]))) as SqlRow[];
      if (rows.length === 0) return;
      last = rows[rows.length - 1];
      yield rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c]])));
      if (rows.length < PAGE) return;
    }
  }

  /** Every blob the meta store knows, in digest order. */
  blobs(): SourceBlob[] {
    return this.db.prepare('SELECT digest, size FROM blobs ORDER BY digest').all() as SourceBlob[];
  }

  /** The bytes of a journaled blob (its file may not be durable yet), or undefined. */
  journaled(digest: string): Buffer | undefined {
    const row = this.db.prepare('SELECT data FROM blob_journal WHERE digest = ?').get(digest) as { data: Buffer } | undefined;
    return row?.data;
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }
}

/** An identifier quoted for SQL (the same rules for SQLite and PostgreSQL). */
export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
