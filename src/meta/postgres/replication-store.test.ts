import { describe } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runReplicationStoreConformance } from '../../replication/store-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgReplicationStore } from './replication-store.ts';

if (PG_SKIP === false) {
  runReplicationStoreConformance('postgres', async () => {
    const f = await pgDatabase();
    const others: PgDatabase[] = [];
    return {
      store: new PgReplicationStore(f.db),
      other: async () => {
        const db = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
        others.push(db);
        return new PgReplicationStore(db);
      },
      cleanup: async () => {
        for (const db of others) await db.close();
        await f.cleanup();
      },
    };
  });
} else {
  describe('replication store conformance: postgres', { skip: PG_SKIP }, () => {});
}
