/**
 * PgUploadStateStore on a real PostgreSQL: holds (one holder at a time, taken over once the
 * lease lapses), the compare-and-set save, release, delete and the cascade from `uploads`, and
 * two pools (two nodes) racing for one session. The `uploads` rows are inserted here with SQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { PgDatabase } from './database.ts';
import { PgUploadStateStore } from './upload-state.ts';

const LEASE = 60_000;

async function session(db: PgDatabase): Promise<string> {
  const id = randomUUID();
  await db.query('INSERT INTO uploads (id, repository, started_at) VALUES ($1, $2, $3)', [id, 'library/x', Date.now()]);
  return id;
}

describe('PgUploadStateStore', { skip: PG_SKIP }, () => {
  it('a first claim records the session with size 0 and no state; a second holder is refused with the acknowledged size', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = new PgUploadStateStore(db);
    const id = await session(db);
    assert.equal(await store.get(id), undefined);
    assert.deepEqual(await store.claim(id, 'a', LEASE), { kind: 'held', saved: { size: 0, hashState: undefined } });
    assert.deepEqual(await store.claim(id, 'b', LEASE), { kind: 'busy', size: 0 });
    assert.deepEqual(await store.get(id), { size: 0, hashState: undefined });
    await cleanup();
  });

  it('save records size and state only for the holder and from the size it started at, and releases when asked', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = new PgUploadStateStore(db);
    const id = await session(db);
    await store.claim(id, 'a', LEASE);
    const state = new Uint8Array([1, 2, 3, 250]);
    assert.equal(await store.save(id, 'b', 0, { size: 10, hashState: state }, true), false, 'not the holder');
    assert.equal(await store.save(id, 'a', 5, { size: 10, hashState: state }, true), false, 'not the size it started from');
    assert.deepEqual(await store.get(id), { size: 0, hashState: undefined });
    assert.equal(await store.save(id, 'a', 0, { size: 10, hashState: state }, false), true);
    assert.deepEqual(await store.claim(id, 'b', LEASE), { kind: 'busy', size: 10 }, 'still held without release');
    assert.equal(await store.save(id, 'a', 10, { size: 20, hashState: undefined }, true), true);
    assert.deepEqual(await store.get(id), { size: 20, hashState: undefined });
    assert.deepEqual(await store.claim(id, 'b', LEASE), { kind: 'held', saved: { size: 20, hashState: undefined } });
    assert.equal(await store.save(id, 'a', 20, { size: 30, hashState: state }, true), false, 'a released it');
    await cleanup();
  });

  it('the state comes back byte for byte to the next holder', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = new PgUploadStateStore(db);
    const id = await session(db);
    const state = new Uint8Array(116).map((_, i) => (i * 37) & 255);
    await store.claim(id, 'a', LEASE);
    assert.equal(await store.save(id, 'a', 0, { size: 1 << 20, hashState: state }, true), true);
    const claim = await store.claim(id, 'b', LEASE);
    assert.equal(claim.kind, 'held');
    assert.deepEqual(claim.kind === 'held' && claim.saved, { size: 1 << 20, hashState: state });
    await cleanup();
  });

  it('release gives the session up keeping the saved state; a lapsed lease is taken over and its holder can neither renew nor save', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = new PgUploadStateStore(db);
    const id = await session(db);
    await store.claim(id, 'a', LEASE);
    await store.save(id, 'a', 0, { size: 4, hashState: new Uint8Array([9]) }, false);
    await store.release(id, 'b'); // not b's: nothing happens
    assert.equal((await store.claim(id, 'b', LEASE)).kind, 'busy');
    await store.release(id, 'a');
    assert.equal((await store.claim(id, 'b', LEASE)).kind, 'held');
    assert.equal(await store.renew(id, 'b', LEASE), true);
    // b's node dies: its lease lapses (a lease already over, instead of waiting for it)
    await db.query('UPDATE upload_state SET held_until = held_until - $2 * 2 WHERE id = $1', [id, LEASE]);
    assert.deepEqual(await store.claim(id, 'c', LEASE), { kind: 'held', saved: { size: 4, hashState: new Uint8Array([9]) } });
    assert.equal(await store.renew(id, 'b', LEASE), false);
    assert.equal(await store.save(id, 'b', 4, { size: 8, hashState: undefined }, true), false);
    assert.deepEqual(await store.get(id), { size: 4, hashState: new Uint8Array([9]) });
    await cleanup();
  });

  it('an unknown session cannot be claimed; delete and the uploads row going both remove the state', async () => {
    const { db, cleanup } = await pgDatabase();
    const store = new PgUploadStateStore(db);
    assert.deepEqual(await store.claim(randomUUID(), 'a', LEASE), { kind: 'unknown' });
    const one = await session(db);
    const two = await session(db);
    await store.claim(one, 'a', LEASE);
    await store.claim(two, 'a', LEASE);
    await store.delete(one);
    assert.equal(await store.get(one), undefined);
    await db.query('DELETE FROM uploads WHERE id = $1', [two]);
    assert.equal(await store.get(two), undefined);
    assert.equal(await store.renew(two, 'a', LEASE), false);
    await store.delete(two); // already gone: no error
    await cleanup();
  });

  it('two nodes claiming one session at once: exactly one holds it, and only its save lands', async () => {
    const { db, url, cleanup } = await pgDatabase();
    const nodes = [new PgDatabase({ connectionString: url, maxOpen: 4 }), new PgDatabase({ connectionString: url, maxOpen: 4 })];
    const stores = nodes.map((n) => new PgUploadStateStore(n));
    for (let round = 0; round < 20; round++) {
      const id = await session(db);
      // first claims of a new session (the INSERT path), then claims of an idle one (the UPDATE path)
      for (const phase of ['new', 'idle']) {
        const claims = await Promise.all(stores.map((s, i) => s.claim(id, `${phase}${i}`, LEASE)));
        const held = claims.flatMap((c, i) => (c.kind === 'held' ? [i] : []));
        assert.equal(held.length, 1, `round ${round} ${phase}: ${JSON.stringify(claims)}`);
        const winner = held[0] ?? 0;
        const saves = await Promise.all(stores.map((s, i) => s.save(id, `${phase}${i}`, phase === 'new' ? 0 : 1, { size: phase === 'new' ? 1 : 2, hashState: undefined }, true)));
        assert.deepEqual(saves, [winner === 0, winner === 1]);
      }
      assert.deepEqual(await stores[0]?.get(id), { size: 2, hashState: undefined });
    }
    await Promise.all(nodes.map((n) => n.close()));
    await cleanup();
  });
});
