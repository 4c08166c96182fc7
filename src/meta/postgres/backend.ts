/**
 * The PostgreSQL backend: every store on one database shared by any number of berth nodes,
 * migrated on opening (once, under an advisory lock), with the token signing keys in it too.
 * Connection settings come from the `database` config section (config/database-schema.ts).
 */
import { databaseSettings, type DatabaseConfig } from '../../config/database-schema.ts';
import type { Backend } from '../backend.ts';
import { PgAccountStore } from './account-store.ts';
import { PgBuildStore } from './build-store.ts';
import { PgSealingKey } from './sealing-key.ts';
import { PgDatabase } from './database.ts';
import { PgEventQueue } from './event-queue.ts';
import { PgBlobInventory } from './inventory.ts';
import { PgGcStore } from './gc-store.ts';
import { PgJobLeases } from './leases.ts';
import { PgLoginFailures } from './login-failures.ts';
import { PgMetaChanges } from './meta-changes.ts';
import { PgMetaStore } from './meta-store.ts';
import { PgReplicationStore } from './replication-store.ts';
import { PgReplicationRuleStore } from './replication-rule-store.ts';
import { migratePostgres } from './migrations.ts';
import { PgSearchIndex } from './search-index.ts';
import { PgSettingsStore } from './settings.ts';
import { PgSigningKeys } from './signing-keys.ts';
import { PgStorageUsage } from './storage-usage.ts';
import { PgTagActivity } from './tag-activity.ts';
import { PgUploadStateStore } from './upload-state.ts';

export interface PgBackend extends Backend {
  database: PgDatabase;
  sealingKey: PgSealingKey;
}

export async function openPostgresBackend(config: DatabaseConfig, opts: { now?: () => number; readOnly?: boolean } = {}): Promise<PgBackend> {
  const db = new PgDatabase(databaseSettings(config));
  try {
    // read-only users (`berth events`) must not migrate: they only check the schema is there
    if (opts.readOnly !== true) await migratePostgres(db);
    return await postgresBackend(db, opts.now);
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** The stores on an open, migrated database (tests build it on their own database). */
export async function postgresBackend(db: PgDatabase, now?: () => number): Promise<PgBackend> {
  return {
    database: db,
    meta: new PgMetaStore(db, now === undefined ? {} : { now }),
    accounts: await PgAccountStore.open(db),
    search: new PgSearchIndex(db),
    usage: new PgStorageUsage(db),
    events: new PgEventQueue(db, now),
    leases: new PgJobLeases(db, now),
    inventory: new PgBlobInventory(db),
    gc: new PgGcStore(db),
    settings: new PgSettingsStore(db, now),
    tagActivity: new PgTagActivity(db),
    builds: new PgBuildStore(db),
    replication: new PgReplicationStore(db),
    replicationRules: new PgReplicationRuleStore(db),
    sealingKey: new PgSealingKey(db),
    keys: new PgSigningKeys(db),
    uploadState: new PgUploadStateStore(db),
    changes: new PgMetaChanges(db),
    loginFailures: new PgLoginFailures(db),
    close: () => db.close(),
  };
}
