/**
 * PostgreSQL settings: the shared suite, the second store on a pool of its own (another node),
 * and a node's cached copy dropped when a row is changed by hand or the listening connection is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runSettingsConformance } from '../settings-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgSettingsStore } from './settings.ts';

if (PG_SKIP === false) {
  runSettingsConformance('postgres', async (now) => {
    const f = await pgDatabase();
    const others: PgDatabase[] = [];
    return {
      settings: new PgSettingsStore(f.db, now),
      other: async () => {
        const db = new PgDatabase({ connectionString: f.url, maxOpen: 2 });
        others.push(db);
        return new PgSettingsStore(db, now);
      },
      cleanup: async () => {
        for (const db of others) await db.close();
        await f.cleanup();
      },
    };
  });
} else {
  describe('settings store conformance: postgres', { skip: PG_SKIP }, () => {});
}

describe('PgSettingsStore: the cached copy', { skip: PG_SKIP }, () => {
  it('is dropped by a row written by hand (the trigger notifies), and by a lost listening connection', async () => {
    const f = await pgDatabase();
    const other = new PgDatabase({ connectionString: f.url, maxOpen: 2 });
    try {
      const store = new PgSettingsStore(f.db);
      await store.put('quota/default', 1, 'alice');
      assert.equal((await store.get('quota/default'))?.value, 1);
      // a waiter for the next key heard, the store listening before anything is changed
      let waiter: ((key: string) => void) | undefined;
      await store.watch((key) => waiter?.(key));
      const next = (want: string) => new Promise<string>((resolve) => (waiter = (key) => key === want && resolve(key)));
      let heard = next('quota/default');
      await other.query("UPDATE settings SET value = '2' WHERE key = 'quota/default'");
      assert.equal(await heard, 'quota/default');
      assert.equal((await store.get('quota/default'))?.value, 2);

      // a change while the listener is gone is not heard; the reconnect says '*' and the copy goes
      heard = next('*');
      await other.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
      await other.query("UPDATE settings SET value = '3' WHERE key = 'quota/default'");
      assert.equal(await heard, '*');
      assert.equal((await store.get('quota/default'))?.value, 3);
    } finally {
      await other.close();
      await f.cleanup();
    }
  });
});
