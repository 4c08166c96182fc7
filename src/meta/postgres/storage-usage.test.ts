/**
 * Storage usage on PostgreSQL: the shared StorageUsageStore suite (content goes in through the
 * PostgreSQL meta store on the same database), two nodes recording a sample or linking blobs at the
 * same time, and migration 13 counting the links already there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../../test/helpers/pg-database.ts';
import { assertCountedAfterMigration, LINKS_BEFORE_COUNTERS, runStorageUsageConformance } from '../storage-usage-conformance.ts';
import { PgDatabase } from './database.ts';
import { migratePostgres, PG_MIGRATIONS } from './migrations.ts';
import { PgGcStore } from './gc-store.ts';
import { PgMetaStore } from './meta-store.ts';
import { PgStorageUsage } from './storage-usage.ts';

if (PG_SKIP === false) {
  runStorageUsageConformance('postgres', async () => {
    const { db, cleanup } = await pgDatabase();
    const dropRepository = async (name: string) => void (await db.query('DELETE FROM repositories WHERE name = $1', [name]));
    const moveLinks = async (from: string, to: string) =>
      void (await db.query(
        'UPDATE repository_blobs SET repository_id = (SELECT id FROM repositories WHERE name = $1), created_at = created_at + 1 WHERE repository_id = (SELECT id FROM repositories WHERE name = $2)',
        [to, from],
      ));
    return { meta: new PgMetaStore(db), usage: new PgStorageUsage(db), gc: new PgGcStore(db), dropRepository, moveLinks, cleanup };
  });
} else {
  describe('storage usage conformance: postgres', { skip: PG_SKIP }, () => {});
}

describe('PgStorageUsage: two nodes on one database', { skip: PG_SKIP }, () => {
  let f: PgFixture;
  let dbB: PgDatabase;
  before(async () => {
    f = await pgDatabase();
    dbB = new PgDatabase({ connectionString: f.url, maxOpen: 4 });
  });
  after(async () => {
    await dbB.close();
    await f.cleanup();
  });

  it('a sample recorded by both at the same time is one of theirs, whole, never both mixed', async () => {
    const a = new PgStorageUsage(f.db);
    const b = new PgStorageUsage(dbB);
    const fromA = { total: 10, namespaces: { alice: 6, bob: 4 } };
    const fromB = { total: 12, namespaces: { carol: 12 } };
    for (let at = 1; at <= 20; at++) {
      await Promise.all([a.recordSample({ at, ...fromA }), b.recordSample({ at, ...fromB }), a.recordSample({ at, ...fromA })]);
    }
    const samples = await b.samples(0);
    assert.equal(samples.length, 20);
    for (const { at, ...sample } of samples) assert.ok([fromA, fromB].some((s) => JSON.stringify(s) === JSON.stringify(sample)), `sample ${at}: ${JSON.stringify(sample)}`);
  });

  it('two nodes linking and unlinking the same blobs in one namespace at once: the counters agree with a count from scratch', async () => {
    const metaA = new PgMetaStore(f.db);
    const metaB = new PgMetaStore(dbB);
    const usage = new PgStorageUsage(f.db);
    const blob = (i: number) => ({ digest: `sha256:${String(i).padStart(64, '7')}`, size: 1000 + i });
    const repos = ['carol/a', 'carol/b', 'carol/c/d', 'dave'];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        repos.flatMap((repo, r) => [0, 1, 2, 3].map((i) => ((r + i + round) % 2 === 0 ? metaA : metaB).linkBlob(repo, blob(i)))),
      );
      const counted = await usage.usage();
      for (const ns of ['carol', 'library']) assert.equal(await usage.namespaceUsage(ns), counted.namespaces.find((n) => n.namespace === ns)?.bytes, `round ${round}: ${ns}`);
      assert.equal(await usage.namespaceUsage('carol'), 1000 + 1001 + 1002 + 1003);
      await Promise.all(repos.flatMap((repo, r) => [0, 1, 2, 3].map((i) => ((r + i) % 2 === round % 2 ? metaA : metaB).unlinkBlob(repo, blob(i).digest))));
      assert.equal(await usage.namespaceUsage('carol'), 0, `round ${round}: all unlinked`);
      assert.equal(await usage.namespaceLinks('carol', blob(0).digest), false);
    }
  });

  it('usage computed on one node counts what the other linked', async () => {
    await new PgMetaStore(dbB).linkBlob('alice/a', { digest: `sha256:${'1'.repeat(64)}`, size: 5 });
    assert.deepEqual(await new PgStorageUsage(f.db).usage(), { total: { bytes: 5, blobs: 1 }, namespaces: [{ namespace: 'alice', bytes: 5, repositories: 1 }] });
  });
});

describe('PgStorageUsage: migration 13 counts the links already there', { skip: PG_SKIP }, () => {
  it('as the SUM over them counts them, and counts on from there', async () => {
    const { db, cleanup } = await pgDatabase();
    try {
      await db.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await migratePostgres(db, PG_MIGRATIONS.filter((m) => m.version < 13));
      const { repositories, links } = LINKS_BEFORE_COUNTERS;
      for (const [id, name] of repositories) await db.query('INSERT INTO repositories (id, name, created_at, updated_at) VALUES ($1, $2, 1, 1)', [id, name]);
      for (const [id, digest, size] of links) {
        await db.query('INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING', [digest, size]);
        await db.query('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, 1)', [id, digest]);
      }
      assert.deepEqual(await migratePostgres(db, PG_MIGRATIONS.filter((m) => m.version <= 13)), [13]);
      await assertCountedAfterMigration(new PgStorageUsage(db), new PgMetaStore(db));
    } finally {
      await cleanup();
    }
  });
});
