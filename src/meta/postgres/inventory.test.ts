import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runBlobInventoryConformance } from '../inventory-conformance.ts';
import { PgBlobInventory } from './inventory.ts';
import { PgMetaStore } from './meta-store.ts';

if (PG_SKIP === false) {
  runBlobInventoryConformance('postgres', async () => {
    const f = await pgDatabase();
    return {
      meta: new PgMetaStore(f.db),
      inventory: new PgBlobInventory(f.db),
      markCollecting: async (digest) => void (await f.db.query('INSERT INTO gc_blob_deleting (digest, size, expires_at) VALUES ($1, 1, 0)', [digest])),
      cleanup: f.cleanup,
    };
  });
}
