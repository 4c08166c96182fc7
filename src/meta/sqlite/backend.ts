/**
 * The SQLite backend: one database file (`meta.sqlite.path`, or ':memory:'), migrated on opening,
 * with every store built on its one connection, so a push, its search entry and its events commit
 * in the same database and one backup holds everything.
 */
import type { Backend } from '../backend.ts';
import { SqliteAccountStore } from './account-store.ts';
import { SqliteBuildStore } from './build-store.ts';
import { SqliteEventQueue } from './event-queue.ts';
import { SqliteBlobInventory } from './inventory.ts';
import { SqliteGcStore } from './gc-store.ts';
import { SqliteJobLeases } from './leases.ts';
import { SqliteReplicationStore } from './replication-store.ts';
import { SqliteReplicationRuleStore } from './replication-rule-store.ts';
import { SqliteSearchIndex } from './search-index.ts';
import { SqliteSettingsStore } from './settings.ts';
import { SqliteMetaStore } from './sqlite-store.ts';
import { SqliteStorageUsage } from './storage-usage.ts';
import { SqliteTagActivity } from './tag-activity.ts';

export interface SqliteBackendConfig {
  /** The database file (`meta.sqlite.path`), or ':memory:'. */
  path: string;
  /** The clock of the times the stores record (tests); Date.now unless given. */
  now?: () => number;
  /** An existing, migrated database, read-only (SqliteMetaStoreOptions.readOnly). */
  readOnly?: boolean;
}

export function openSqliteBackend({ path, now, readOnly }: SqliteBackendConfig): Backend {
  const meta = new SqliteMetaStore(path, { ...(now !== undefined && { now }), ...(readOnly !== undefined && { readOnly }) });
  const db = meta.database;
  return {
    meta,
    accounts: new SqliteAccountStore(db),
    search: new SqliteSearchIndex(db),
    usage: new SqliteStorageUsage(db),
    events: new SqliteEventQueue(db, now),
    leases: new SqliteJobLeases(db, now),
    inventory: new SqliteBlobInventory(db),
    gc: new SqliteGcStore(db),
    settings: new SqliteSettingsStore(db, now),
    tagActivity: new SqliteTagActivity(db),
    builds: new SqliteBuildStore(db),
    replication: new SqliteReplicationStore(db),
    replicationRules: new SqliteReplicationRuleStore(db),
    close: () => meta.close(),
  };
}
