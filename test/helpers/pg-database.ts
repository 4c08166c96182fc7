/**
 * Migrated PostgreSQL databases for the PostgreSQL stores' tests: one throwaway server per test
 * file (helpers/postgres.ts), the schema migrated once into a template, and each test's database
 * copied from it (CREATE DATABASE ... TEMPLATE: milliseconds, not a migration per test).
 * Without PostgreSQL the suites skip with the reason, except under CI=true where they fail.
 */
import { after } from 'node:test';
import pg from 'pg';
import { PgDatabase } from '../../src/meta/postgres/database.ts';
import { migratePostgres } from '../../src/meta/postgres/migrations.ts';
import { IN_CI } from './process.ts';
import { postgresBin, startPostgres, type Postgres } from './postgres.ts';

export interface PgFixture {
  db: PgDatabase;
  /** The database's URL, for a second connection (another node). */
  url: string;
  cleanup(): Promise<void>;
}

const bin = await postgresBin();
/** false, or why the PostgreSQL suites skip. */
export const PG_SKIP: string | false = bin === undefined && !IN_CI ? 'PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)' : false;
if (PG_SKIP !== false) console.log(`# skipping: ${PG_SKIP}`);

let server: Promise<{ pg: Postgres; admin: pg.Pool }> | undefined;
let counter = 0;

function started(): Promise<{ pg: Postgres; admin: pg.Pool }> {
  server ??= (async () => {
    if (bin === undefined) throw new Error('PostgreSQL is not installed (required under CI=true; .ci/run installs it)');
    const pgServer = await startPostgres();
    const template = await pgServer.createDatabase('berth_template');
    const db = new PgDatabase({ connectionString: template });
    await migratePostgres(db);
    await db.close();
    const admin = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    // An idle client the server drops (its shutdown: "terminating connection due to administrator
    // command") emits 'error' on the pool; unheard, that is an uncaught exception failing the file
    // after all its tests passed (seen in CI on leases.test.ts and gc-store.test.ts).
    admin.on('error', () => undefined);
    return { pg: pgServer, admin };
  })();
  return server;
}

// registered at load, so it belongs to the file's root and runs after every test of the file
after(async () => {
  if (server === undefined) return;
  const { pg: pgServer, admin } = await server;
  await admin.end();
  await pgServer.stop();
});

/** A new, migrated, empty database on this test file's server. */
export async function pgDatabase(): Promise<PgFixture> {
  const { pg: pgServer, admin } = await started();
  const name = `t${process.pid}_${++counter}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE berth_template`);
  const url = `postgres://berth@127.0.0.1:${pgServer.port}/${name}`;
  const db = new PgDatabase({ connectionString: url, maxOpen: 4 });
  return {
    db,
    url,
    cleanup: async () => {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
}
