/**
 * Versioned schema migrations for PostgreSQL. Each runs once, in order, in its own transaction,
 * recorded in schema_migrations. Nodes starting together serialise on an advisory lock, so the
 * schema is migrated once and every node waits until it is done. The schema is SQLite's
 * (sqlite/migrations.ts) in PostgreSQL's types, one file per store under schema/.
 */
import type { PgDatabase } from './database.ts';
import { ACCOUNTS_SCHEMA } from './schema/accounts.ts';
import { BUILDS_RULE_REF_INDEX, BUILDS_SCHEMA } from './schema/builds.ts';
import { CLUSTER_SCHEMA } from './schema/cluster.ts';
import { CORE_SCHEMA } from './schema/core.ts';
import { GC_SCHEMA } from './schema/gc.ts';
import { EVENTS_SCHEMA } from './schema/events.ts';
import { LOGIN_FAILURES_SCHEMA } from './schema/login-failures.ts';
import { META_CHANGES_SCHEMA } from './schema/meta-changes.ts';
import { REPLICATION_RULES_SCHEMA, REPLICATION_SCHEMA } from './schema/replication.ts';
import { SEARCH_SCHEMA } from './schema/search.ts';
import { SETTINGS_SCHEMA } from './schema/settings.ts';
import { TAG_ACTIVITY_SCHEMA } from './schema/tag-activity.ts';
import { UPLOAD_STATE_SCHEMA } from './schema/upload-state.ts';
import { USAGE_SCHEMA } from './schema/usage.ts';
import { USAGE_COUNTERS_SCHEMA } from './schema/usage-counters.ts';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'core registry and blob journal', sql: CORE_SCHEMA },
  { version: 2, name: 'event deliveries with leases', sql: EVENTS_SCHEMA },
  { version: 3, name: 'accounts and access control', sql: ACCOUNTS_SCHEMA },
  { version: 4, name: 'search index, stars and descriptions', sql: SEARCH_SCHEMA },
  { version: 5, name: 'storage samples', sql: USAGE_SCHEMA },
  { version: 6, name: 'cluster: signing keys and job leases', sql: CLUSTER_SCHEMA },
  { version: 7, name: 'chunked upload state', sql: UPLOAD_STATE_SCHEMA },
  { version: 8, name: 'notices of removed manifests and blob links', sql: META_CHANGES_SCHEMA },
  { version: 9, name: 'login failure counts', sql: LOGIN_FAILURES_SCHEMA },
  { version: 10, name: 'garbage collection queues', sql: GC_SCHEMA },
  { version: 11, name: 'settings overriding the config', sql: SETTINGS_SCHEMA },
  // When each tag was last pulled and each manifest lost its last tag (meta/tag-activity.ts), for retention.
  { version: 12, name: 'last pull of each tag, and when manifests lost their last tag', sql: TAG_ACTIVITY_SCHEMA },
  // What each namespace's repositories link, counted by triggers, so a quota's check reads a few rows (SQLite's 15).
  { version: 13, name: 'namespace usage counters', sql: USAGE_COUNTERS_SCHEMA },
  // Build rules, the build queue and history, build logs; repositories with a rule are automated (SQLite's 16).
  { version: 14, name: 'automated builds', sql: BUILDS_SCHEMA },
  // The newest build of a rule's reference, which each enqueue looks at (SQLite's 17).
  { version: 15, name: 'builds by rule and reference', sql: BUILDS_RULE_REF_INDEX },
  // Each run of a replication rule, its counts and failures, leased to the node running it (SQLite's 18).
  { version: 16, name: 'replication runs', sql: REPLICATION_SCHEMA },
  // Rules made through the API or the CLI, their passwords sealed (SQLite's 19).
  { version: 17, name: 'replication rules', sql: REPLICATION_RULES_SCHEMA },
];

/** pg_advisory_lock's key for migrations: "berth" in ASCII, so it names berth in pg_locks. */
const MIGRATION_LOCK = 0x6265727468;

/** Apply every migration not yet applied; returns the versions it applied. */
export async function migratePostgres(db: PgDatabase, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number[]> {
  const client = await db.pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known) throw new Error(`the database's schema is at version ${newest}, newer than this berth knows (${known}): upgrade berth`);
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
  return applied;
}
