import { describe } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runBuildStoreConformance } from '../../builds/store-conformance.ts';
import { PgBuildStore } from './build-store.ts';
import { PgDatabase } from './database.ts';

if (PG_SKIP === false) {
  runBuildStoreConformance('postgres', async () => {
    const f = await pgDatabase();
    const others: PgDatabase[] = [];
    return {
      store: new PgBuildStore(f.db),
      other: async () => {
        const db = new PgDatabase({ connectionString: f.url, maxOpen: 2 });
        others.push(db);
        return new PgBuildStore(db);
      },
      automated: async (name) => (await f.db.rows<{ is_automated: boolean }>('SELECT is_automated FROM repository_info WHERE name = $1', [name]))[0]?.is_automated,
      cleanup: async () => {
        for (const db of others) await db.close();
        await f.cleanup();
      },
    };
  });
} else {
  describe('build store conformance: postgres', { skip: PG_SKIP }, () => {});
}
