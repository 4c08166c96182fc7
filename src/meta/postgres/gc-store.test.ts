import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runGcConformance } from '../gc-conformance.ts';
import { PgGcStore } from './gc-store.ts';
import { PgMetaStore } from './meta-store.ts';

if (PG_SKIP === false) {
  runGcConformance('postgres', async (now) => {
    const f = await pgDatabase();
    return { meta: new PgMetaStore(f.db, { now }), gc: new PgGcStore(f.db), cleanup: f.cleanup };
  });
}
