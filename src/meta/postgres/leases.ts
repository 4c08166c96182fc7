/**
 * Job leases on PostgreSQL (table leases, schema/cluster.ts), for background jobs that run once
 * across the nodes sharing the database. Taking a lease is one atomic upsert: a row is inserted
 * for a free job, or overwritten when it is the same holder's (a renewal) or has expired (a
 * takeover), and RETURNING says which. Two nodes racing for a job serialise on its row (the
 * primary key): the second sees the first's lease and gets no row back.
 */
import type { JobLeases } from '../leases.ts';
import type { PgDatabase } from './database.ts';

const ACQUIRE = `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $4
                 RETURNING holder`;
const RELEASE = 'DELETE FROM leases WHERE name = $1 AND holder = $2';

export class PgJobLeases implements JobLeases {
  /** `db` is migrated; `now` is this node's clock, against which every lease's expiry is read. */
  constructor(
    private readonly db: PgDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return (await this.db.one(ACQUIRE, [job, holder, now + ttlMs, now])) !== undefined;
  }

  async release(job: string, holder: string): Promise<void> {
    await this.db.query(RELEASE, [job, holder]);
  }
}
