/**
 * The blob inventory on PostgreSQL, the twin of sqlite/inventory.ts (the same SQL, rows/inventory.ts).
 * Digests are COLLATE "C", so pages come in the same byte-wise order as on SQLite. forgetBlob
 * locks the blob's row first, so that two nodes' repairs of one blob serialise.
 */
import type { BlobInventory, BlobUse, DanglingReference, InventoryBlob, InventoryTotals } from '../inventory.ts';
import type { JournaledBlob } from '../store.ts';
import { COLLECTING_SQL, DANGLING_SQL, FORGET_SQL, TOTALS_SQL, USES_SQL } from '../rows/inventory.ts';
import type { PgDatabase } from './database.ts';

const TOTALS = TOTALS_SQL('COALESCE(SUM(size), 0)::bigint');
const BLOBS = 'SELECT digest, size, created_at AS "createdAt" FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2';
const USES = USES_SQL('$1', '$1', '$1');
const DANGLING = DANGLING_SQL('$1');
const COLLECTING = COLLECTING_SQL('$1');
const JOURNAL = 'SELECT digest, data FROM blob_journal WHERE digest > $1 ORDER BY digest LIMIT $2';
const LOCK = 'SELECT 1 FROM blobs WHERE digest = $1 FOR UPDATE';
const NEEDED = FORGET_SQL.needed('$1', '$1');

export class PgBlobInventory implements BlobInventory {
  constructor(private readonly db: PgDatabase) {}

  async totals(): Promise<InventoryTotals> {
    return (await this.db.one<InventoryTotals>(TOTALS)) ?? { blobs: 0, bytes: 0, journaled: 0 };
  }

  async blobs(after: string, limit: number): Promise<InventoryBlob[]> {
    return this.db.rows<InventoryBlob>(BLOBS, [after, limit]);
  }

  async usesOf(digest: string): Promise<BlobUse[]> {
    const rows = await this.db.rows<{ kind: BlobUse['kind']; repository: string; manifest: string | null }>(USES, [digest]);
    return rows.map(({ kind, repository, manifest }) => (manifest === null ? { kind, repository } : { kind, repository, manifest }));
  }

  async danglingReferences(limit: number): Promise<DanglingReference[]> {
    return this.db.rows<DanglingReference>(DANGLING, [limit]);
  }

  async collecting(digest: string): Promise<boolean> {
    return (await this.db.one(COLLECTING, [digest])) !== undefined;
  }

  async journal(after: string, limit: number): Promise<JournaledBlob[]> {
    return this.db.rows<JournaledBlob>(JOURNAL, [after, limit]);
  }

  async forgetBlob(digest: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if ((await tx.query(LOCK, [digest])).rowCount === 0) return false;
      if ((await tx.query(NEEDED, [digest])).rowCount !== 0) return false;
      let removed = false;
      for (const sql of FORGET_SQL.deletes) removed = ((await tx.query(sql, [digest])).rowCount ?? 0) > 0;
      return removed;
    });
  }
}
