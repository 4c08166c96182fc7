import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runBuildStoreConformance } from '../../builds/store-conformance.ts';
import { PgBuildStore } from './build-store.ts';
import { PgDatabase } from './database.ts';
import { PgSealingKey } from './sealing-key.ts';

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

describe('PgSealingKey', { skip: PG_SKIP }, () => {
  it('gives every node the key the first one made, and adopts a migrated key only where there is none', async () => {
    const f = await pgDatabase();
    const other = new PgDatabase({ connectionString: f.url, maxOpen: 2 });
    try {
      const mine = new PgSealingKey(f.db);
      assert.equal(await mine.stored(), undefined);
      const [a, b] = await Promise.all([mine.key(), new PgSealingKey(other).key()]);
      assert.equal(a.length, 32);
      assert.deepEqual(a, b);
      assert.equal(await mine.adopt(Buffer.alloc(32, 7)), false, 'a key is there: kept');
      assert.deepEqual(await mine.key(), a);
    } finally {
      await other.close();
      await f.cleanup();
    }
  });
});
