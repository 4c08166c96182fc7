/**
 * Storage usage on PostgreSQL: the shared StorageUsageStore suite (content goes in through the
 * PostgreSQL meta store on the same database), and two nodes recording a sample at the same time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../../test/helpers/pg-database.ts';
import { runStorageUsageConformance } from '../storage-usage-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgMetaStore } from './meta-store.ts';
import { PgStorageUsage } from './storage-usage.ts';

if (PG_SKIP === false) {
  runStorageUsageConformance('postgres', async () => {
    const { db, cleanup } = await pgDatabase();
    return { meta: new PgMetaStore(db), usage: new PgStorageUsage(db), cleanup };
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

  it('usage computed on one node counts what the other linked', async () => {
    await new PgMetaStore(dbB).linkBlob('alice/a', { digest: `sha256:${'1'.repeat(64)}`, size: 5 });
    assert.deepEqual(await new PgStorageUsage(f.db).usage(), { total: { bytes: 5, blobs: 1 }, namespaces: [{ namespace: 'alice', bytes: 5, repositories: 1 }] });
  });
});
