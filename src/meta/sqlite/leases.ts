/**
 * Job leases on the SQLite database (table leases, migration 11). One process uses a SQLite
 * file, so a lease never has a rival in practice; the store exists so that the jobs take their
 * lease the same way on every backend. Taking one is a single upsert that only overwrites the row
 * of the same holder or an expired one. Writes are relaxed: a lease lost in a power cut is taken
 * again at the next tick.
 */
import type Database from 'better-sqlite3';
import type { JobLeases } from '../leases.ts';
import { relaxed } from './relaxed.ts';

interface AcquireParams {
  name: string;
  holder: string;
  expires: number;
  now: number;
}

export class SqliteJobLeases implements JobLeases {
  private readonly st;

  /** `db` is the meta store's connection (SqliteMetaStore.database), already migrated. */
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.st = {
      acquire: db.prepare<[AcquireParams], { holder: string }>(
        `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expires)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= @now
         RETURNING holder`,
      ),
      release: db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?'),
    };
  }

  async acquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return relaxed(this.db, () => this.st.acquire.get({ name: job, holder, expires: now + ttlMs, now }) !== undefined);
  }

  async release(job: string, holder: string): Promise<void> {
    relaxed(this.db, () => this.st.release.run(job, holder));
  }
}
