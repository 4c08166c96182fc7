/**
 * The blob inventory on SQLite (BlobInventory, inventory.ts): read on the meta store's own
 * connection, every page one indexed query (blobs and blob_journal by their primary key, uses by
 * the digest indexes of repository_blobs and manifest_references).
 */
import type Database from 'better-sqlite3';
import type { BlobInventory, BlobUse, DanglingReference, InventoryBlob, InventoryTotals } from '../inventory.ts';
import type { JournaledBlob } from '../store.ts';
import { COLLECTING_SQL, DANGLING_SQL, FORGET_SQL, TOTALS_SQL, USES_SQL } from '../rows/inventory.ts';

export class SqliteBlobInventory implements BlobInventory {
  private readonly st;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(private readonly db: Database.Database) {
    this.st = {
      totals: db.prepare<[], InventoryTotals>(TOTALS_SQL('COALESCE(SUM(size), 0)')),
      blobs: db.prepare<[string, number], InventoryBlob>('SELECT digest, size, created_at AS createdAt FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?'),
      uses: db.prepare<[string, string, string], { kind: BlobUse['kind']; repository: string; manifest: string | null }>(USES_SQL('?', '?', '?')),
      dangling: db.prepare<[number], DanglingReference>(DANGLING_SQL('?')),
      collecting: db.prepare<[string], { one: number }>(COLLECTING_SQL('?')),
      journal: db.prepare<[string, number], JournaledBlob>('SELECT digest, data FROM blob_journal WHERE digest > ? ORDER BY digest LIMIT ?'),
      needed: db.prepare<[string, string], { one: number }>(FORGET_SQL.needed('?', '?')),
      forget: FORGET_SQL.deletes.map((sql) => db.prepare<[string]>(sql.replace('$1', '?'))),
    };
  }

  async totals(): Promise<InventoryTotals> {
    return this.st.totals.get() ?? { blobs: 0, bytes: 0, journaled: 0 };
  }

  async blobs(after: string, limit: number): Promise<InventoryBlob[]> {
    return this.st.blobs.all(after, limit);
  }

  async usesOf(digest: string): Promise<BlobUse[]> {
    return this.st.uses.all(digest, digest, digest).map(({ kind, repository, manifest }) => (manifest === null ? { kind, repository } : { kind, repository, manifest }));
  }

  async danglingReferences(limit: number): Promise<DanglingReference[]> {
    return this.st.dangling.all(limit);
  }

  async collecting(digest: string): Promise<boolean> {
    return this.st.collecting.get(digest) !== undefined;
  }

  async journal(after: string, limit: number): Promise<JournaledBlob[]> {
    return this.st.journal.all(after, limit);
  }

  async forgetBlob(digest: string): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.st.needed.get(digest, digest) !== undefined) return false;
      let removed = false;
      for (const st of this.st.forget) removed = st.run(digest).changes > 0;
      return removed;
    }).immediate();
  }
}
