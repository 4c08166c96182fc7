/**
 * PostgreSQL job leases: the shared suite, and nodes on separate pools racing for the same jobs,
 * free or expired: exactly one wins each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { runJobLeasesConformance } from '../leases-conformance.ts';
import { PgDatabase } from './database.ts';
import { PgJobLeases } from './leases.ts';

if (PG_SKIP === false) {
  runJobLeasesConformance('postgres', async (now) => {
    const f = await pgDatabase();
    return { leases: new PgJobLeases(f.db, now), cleanup: f.cleanup };
  });
}

describe('postgres job leases across nodes', { skip: PG_SKIP }, () => {
  it('gives each job to exactly one of three nodes acquiring it at once, free or expired', async () => {
    const f = await pgDatabase();
    const others = [new PgDatabase({ connectionString: f.url, maxOpen: 4 }), new PgDatabase({ connectionString: f.url, maxOpen: 4 })];
    try {
      let time = 1_000_000;
      const nodes = [f.db, ...others].map((db, i) => ({ name: `node-${i}`, leases: new PgJobLeases(db, () => time) }));
      const jobs = Array.from({ length: 20 }, (_, i) => `job-${i}`);
      const race = () =>
        Promise.all(jobs.map(async (job) => {
          const won = await Promise.all(nodes.map((n) => n.leases.acquire(job, n.name, 1_000)));
          return won.filter(Boolean).length;
        }));
      assert.deepEqual(await race(), jobs.map(() => 1), 'free jobs');
      time += 1_000;
      assert.deepEqual(await race(), jobs.map(() => 1), 'expired leases');
      time += 999;
      const held = await Promise.all(jobs.map((job) => Promise.all(nodes.map((n) => n.leases.acquire(job, n.name, 1_000)))));
      assert.deepEqual(held.map((won) => won.filter(Boolean).length), jobs.map(() => 1), 'the holder renews, the others are refused');
    } finally {
      for (const db of others) await db.close();
      await f.cleanup();
    }
  });
});
