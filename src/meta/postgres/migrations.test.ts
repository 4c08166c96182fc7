import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { PG_SKIP, pgDatabase } from '../../../test/helpers/pg-database.ts';
import { PgDatabase } from './database.ts';
import { migratePostgres, PG_MIGRATIONS } from './migrations.ts';

describe('PostgreSQL migrations', { skip: PG_SKIP }, () => {
  it('the template holds every migration, and migrating again applies nothing', async () => {
    const { db, cleanup } = await pgDatabase();
    const rows = await db.rows<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migratePostgres(db), []);
    await cleanup();
  });

  it('nodes starting together migrate once: the others wait on the lock and find it done', async () => {
    const { db, url, cleanup } = await pgDatabase();
    await db.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    const nodes = [0, 1, 2].map(() => new PgDatabase({ connectionString: url, maxOpen: 2 }));
    const applied = await Promise.all(nodes.map((n) => migratePostgres(n)));
    assert.deepEqual(applied.map((a) => a.length).sort(), [0, 0, PG_MIGRATIONS.length]);
    await Promise.all(nodes.map((n) => n.close()));
    await cleanup();
  });

  it('refuses a schema newer than it knows, and a failed migration leaves nothing half-applied', async () => {
    const { db, cleanup } = await pgDatabase();
    await assert.rejects(migratePostgres(db, PG_MIGRATIONS.slice(0, 2)), /newer than this berth knows/);
    const broken = [...PG_MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT no_such_function()' }];
    await assert.rejects(migratePostgres(db, broken), /migration 99 \(broken\) failed/);
    assert.equal((await db.rows("SELECT 1 FROM pg_tables WHERE tablename = 'half'")).length, 0);
    assert.equal((await db.rows('SELECT 1 FROM schema_migrations WHERE version = 99')).length, 0);
    await cleanup();
  });

  it('a connection killed inside a transaction fails that transaction, not the process, and the pool serves on', async () => {
    const { db, url, cleanup } = await pgDatabase();
    const other = new PgDatabase({ connectionString: url, maxOpen: 1 });
    const failed = db.transaction(async (tx) => {
      const row = await db.one<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], tx);
      const ended = new Promise((resolve) => (tx as unknown as pg.PoolClient).once('end', resolve));
      await other.query('SELECT pg_terminate_backend($1)', [row?.pid]);
      await ended; // the client heard its server go between two queries: an 'error' event nobody awaited
      await tx.query('SELECT 1');
    });
    await assert.rejects(failed);
    assert.equal((await db.one<{ n: number }>('SELECT 1 AS n'))?.n, 1);
    await other.close();
    await cleanup();
  });

  it('a LISTEN handler hears a NOTIFY sent from another connection', async () => {
    const { db, url, cleanup } = await pgDatabase();
    const other = new PgDatabase({ connectionString: url, maxOpen: 1 });
    const heard = new Promise<string>((resolve) => void db.listen('berth_test', resolve));
    await new Promise((r) => setTimeout(r, 50));
    await other.query("SELECT pg_notify('berth_test', 'hello')");
    assert.equal(await heard, 'hello');
    await other.close();
    await cleanup();
  });
});
