import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { rule, runBuildStoreConformance } from '../../builds/store-conformance.ts';
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

describe('PgBuildStore.enqueue', { skip: PG_SKIP }, () => {
  it('queues a new build when a node claims the queued one while the delivery waits, never repointing a running build', async () => {
    const f = await pgDatabase();
    const other = new PgDatabase({ connectionString: f.url, maxOpen: 2 });
    try {
      const store = new PgBuildStore(f.db);
      await store.putRule(rule());
      const hook = (commit: string) => ({ repository: 'alice/app', ruleId: 'r1', ref: 'main', commit, tag: 'latest', trigger: 'hook' as const, requestedBy: null });
      const first = await store.enqueue(hook('c1'), 1, 50);
      let moved: Promise<Awaited<ReturnType<PgBuildStore['enqueue']>>> | undefined;
      await other.transaction(async (tx) => {
        // another node's claim, not yet committed: the row is locked and still 'queued' to everyone else
        await tx.query(`UPDATE builds SET status = 'running', claimed_by = 'n2', claimed_until = 9, started_at = 2 WHERE id = $1`, [first.id]);
        moved = store.enqueue(hook('c2'), 3, 50);
        // the enqueue waits on the claim's lock (it would be a race without one)
        while ((await other.rows<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`))[0]?.n === 0);
      });
      const second = await moved;
      assert.ok(second);
      assert.notEqual(second.id, first.id, 'the running build is not pointed at the new commit');
      assert.equal(second.status, 'queued');
      assert.equal(second.commit, 'c2');
      const running = await store.get('alice/app', first.id);
      assert.equal(running?.status, 'running');
      assert.equal(running?.commit, 'c1');
    } finally {
      await other.close();
      await f.cleanup();
    }
  });
});
