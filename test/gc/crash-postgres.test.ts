/**
 * kill -9 during garbage collection on PostgreSQL: the server and `berth gc` share a database
 * (the suite is test/helpers/gc-crash.ts). Skips with the reason without PostgreSQL, except under CI=true.
 */
import { PG_SKIP, pgDatabase } from '../helpers/pg-database.ts';
import { gcCrashSuite, postgresReader } from '../helpers/gc-crash.ts';

gcCrashSuite(
  'kill -9 during garbage collection (PostgreSQL)',
  async () => {
    const pg = await pgDatabase();
    return { database: { enabled: true, url: pg.url }, reader: () => postgresReader(pg.url), cleanup: () => pg.cleanup() };
  },
  { skip: PG_SKIP },
);
