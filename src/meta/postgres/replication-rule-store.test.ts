import { describe } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runReplicationRuleStoreConformance } from '../../replication/rule-store-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgReplicationRuleStore } from './replication-rule-store.ts';
import { PgReplicationStore } from './replication-store.ts';

if (PG_SKIP === false) {
  runReplicationRuleStoreConformance('postgres', async () => {
    const f = await pgDatabase();
    const others: PgDatabase[] = [];
    return {
      rules: new PgReplicationRuleStore(f.db),
      runs: new PgReplicationStore(f.db),
      other: async () => {
        const db = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
        others.push(db);
        return new PgReplicationRuleStore(db);
      },
      cleanup: async () => {
        for (const db of others) await db.close();
        await f.cleanup();
      },
    };
  });
} else {
  describe('replication rule store conformance: postgres', { skip: PG_SKIP }, () => {});
}
