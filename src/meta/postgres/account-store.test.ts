import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountConflictError } from '../../auth/errors.ts';
import { runAccountStoreConformance } from '../../auth/store-conformance.ts';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { ACCOUNTS_CHANNEL, PgAccountStore } from './account-store.ts';
import { PgDatabase } from './database.ts';

describe('PgAccountStore', { skip: PG_SKIP }, () => {
  runAccountStoreConformance('postgres', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = await PgAccountStore.open(db);
    return {
      store,
      cleanup: async () => {
        store.close();
        await cleanup();
      },
    };
  });

  /** The next payload heard on a channel, in a box (an async function would adopt a bare promise); LISTEN is on once this returns. */
  async function next(db: PgDatabase, channel: string): Promise<{ heard: Promise<string> }> {
    let resolve: (payload: string) => void = () => undefined;
    const heard = new Promise<string>((r) => (resolve = r));
    const off = await db.listen(channel, (payload) => resolve(payload));
    void heard.then(() => off());
    return { heard };
  }

  /**
   * Two nodes (two pools, two stores) on one database. `settle()` sends a marker from A and waits
   * for B to hear it: notifications arrive in commit order, so every change A committed before is
   * in B's counter by then, and one that is not there was never sent.
   */
  async function twoNodes(): Promise<{
    a: PgAccountStore;
    b: PgAccountStore;
    dbA: PgDatabase;
    dbB: PgDatabase;
    settle: () => Promise<void>;
    close: () => Promise<void>;
  }> {
    const { db: dbA, url, cleanup } = await pgDatabase();
    const dbB = new PgDatabase({ connectionString: url, maxOpen: 4 });
    const a = await PgAccountStore.open(dbA);
    const b = await PgAccountStore.open(dbB);
    const settle = async (): Promise<void> => {
      const { heard } = await next(dbB, 'berth_test_marker');
      await dbA.query("SELECT pg_notify('berth_test_marker', 'x')");
      await heard;
    };
    const close = async (): Promise<void> => {
      a.close();
      b.close();
      await dbB.close();
      await cleanup();
    };
    return { a, b, dbA, dbB, settle, close };
  }

  it("a change committed on one node moves another node's externalChanges, and the writer's userChanges", async () => {
    const { a, b, dbB, close } = await twoNodes();
    const before = b.externalChanges();
    const { heard } = await next(dbB, ACCOUNTS_CHANNEL);
    await a.createUser({ name: 'alice', passwordHash: null, admin: false });
    assert.ok(['namespaces', 'users'].includes(await heard));
    assert.ok(b.externalChanges() > before, "B's handler ran before the test's (registered first)");
    assert.equal(a.userChanges(), 1);
    assert.equal(b.userChanges(), 0, 'userChanges counts only this node’s own writes');
    assert.equal((await b.getUser('alice'))?.name, 'alice');
    await close();
  });

  it('marking a token used notifies nobody; revoking it does', async () => {
    const { a, b, settle, close } = await twoNodes();
    await a.createUser({ name: 'alice', passwordHash: null, admin: false });
    await a.createToken({ id: 't1', user: 'alice', kind: 'pat', name: 'ci', secretHash: 'aa', scopes: null, expiresAt: null });
    await settle();
    const quiet = b.externalChanges();
    await a.touchToken('t1', 1234);
    await a.touchToken('t1', 5678);
    await settle();
    assert.equal(b.externalChanges(), quiet, 'touchToken sent no notification');
    assert.equal((await b.findToken('aa', 0))?.lastUsedAt, 5678);
    await a.revokeToken('t1');
    await settle();
    assert.ok(b.externalChanges() > quiet, 'a revocation reaches the other node');
    await close();
  });

  it('a listener that reconnects counts as a change (what it missed is unknown)', async () => {
    const { b, dbA, dbB, close } = await twoNodes();
    const before = b.externalChanges();
    const { heard } = await next(dbB, ACCOUNTS_CHANNEL);
    await dbA.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
    assert.equal(await heard, '*');
    assert.ok(b.externalChanges() > before);
    await close();
  });

  it('two nodes claiming private repositories at once under a limit of 1 record exactly one', async () => {
    const { a, b, dbA, close } = await twoNodes();
    // hold the namespace's claim lock, so both claims are in flight together before either counts
    const holder = await dbA.pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['berth.private_repositories', 'alice']);
    let settled = false;
    const claims = Promise.all([a.claimRepository('alice/one', 'alice', 'private', 1), b.claimRepository('alice/two', 'alice', 'private', 1)]).finally(
      () => (settled = true),
    );
    // until both wait on the lock (a store that took none would settle first, and fail below)
    while (!settled) {
      const waiting = await dbA.one<{ n: number }>(
        "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      if (waiting?.n === 2) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await holder.query('COMMIT');
    holder.release();
    const results = await claims;
    assert.equal(results.filter((r) => r !== undefined).length, 1, 'one claim wins, the other is refused');
    assert.equal(await a.countPrivate('alice'), 1);
    await close();
  });

  it('a name created on two nodes at once: one succeeds, the other gets the conflict', async () => {
    const { a, b, close } = await twoNodes();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const results = await Promise.allSettled([
        a.createUser({ name, passwordHash: null, admin: false }),
        b.createUser({ name, passwordHash: null, admin: true }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, name);
      const failed = results.find((r) => r.status === 'rejected');
      assert.ok(failed?.status === 'rejected' && failed.reason instanceof AccountConflictError, `${name}: ${String(failed)}`);
    }
    const results = await Promise.allSettled([a.createOrg('acme', 'alice'), b.createUser({ name: 'acme', passwordHash: null, admin: false })]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal(await b.namespaceKind('acme'), results[0].status === 'fulfilled' ? 'org' : 'user', 'the winner holds the name');
    assert.equal((await a.listUsers()).filter((u) => u.name !== 'acme').length, 5);
    await close();
  });
});
