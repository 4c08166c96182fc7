/**
 * Tag activity on PostgreSQL: the shared TagActivityStore suite, and two nodes stamping the same
 * tags at once (rows locked in key order: no deadlock, the later time wins).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runTagActivityConformance } from '../tag-activity-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgMetaStore } from './meta-store.ts';
import { PgTagActivity } from './tag-activity.ts';

if (PG_SKIP === false) {
  runTagActivityConformance('postgres', async () => {
    const { db, cleanup } = await pgDatabase();
    return { meta: new PgMetaStore(db), activity: new PgTagActivity(db), cleanup };
  });
} else {
  describe('tag activity conformance: postgres', { skip: PG_SKIP }, () => {});
}

describe('PgTagActivity: two nodes on one database', { skip: PG_SKIP }, () => {
  it('batches over the same tags in opposite orders, at once, all commit; the latest time wins', async () => {
    const { db, url, cleanup } = await pgDatabase();
    const other = new PgDatabase({ connectionString: url, maxOpen: 4 });
    try {
      const meta = new PgMetaStore(db);
      const tags = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      const digest = `sha256:${'1'.repeat(64)}`;
      await meta.linkBlob('acme/app', { digest, size: 1 });
      const manifest = { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs: [], children: [] };
      for (const t of tags) await meta.putManifest('acme/app', manifest, t);
      const a = new PgTagActivity(db);
      const b = new PgTagActivity(other);
      const batch = (at: number, order: string[]) => order.map((reference) => ({ repository: 'acme/app', reference, at }));
      const runs: Promise<void>[] = [];
      for (let i = 0; i < 10; i++) {
        runs.push(a.recordPulls(batch(1000 + i, tags)), b.recordPulls(batch(2000 + i, [...tags].reverse())), a.recordPulls([{ repository: 'acme/app', reference: digest, at: 1500 + i }]));
      }
      await Promise.all(runs);
      const activity = await a.tagActivity('acme/app');
      assert.equal(activity.length, 20);
      assert.ok(activity.every((t) => t.pulledAt === 2009), JSON.stringify(activity.map((t) => t.pulledAt)));
    } finally {
      await other.close();
      await cleanup();
    }
  });
});
