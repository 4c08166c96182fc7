/**
 * `berth migrate`'s library: move a single-node registry (any storage driver + SQLite) into
 * PostgreSQL and the target's storage (S3 in practice), in four phases: blobs (bytes first,
 * verified by digest), tables (one transaction, only once every blob is in the target: metadata
 * follows bytes), signing keys, verify. It only reads the source, in one snapshot, so it runs
 * beside the serving source; each run is idempotent and catches up on what the source changed
 * since the last one. The final pass is a run with the source read-only.
 */
import fs from 'node:fs';
import { keyDirectory, signingKeySource } from '../auth/setup.ts';
import type { SigningKeySource } from '../auth/keys.ts';
import { databaseSettings, type DatabaseConfig } from '../config/database-schema.ts';
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { copyBlobs, type BlobReport } from './blobs.ts';
import { copySealingKey, copySigningKeys, readOnlyKeyFiles, type KeyReport } from './keys.ts';
import type { Progress } from './progress.ts';
import { SourceSnapshot } from './source.ts';
import { copyTables, unknownTables, type TableReport } from './tables.ts';
import { verifyTarget, type VerifyReport } from './verify.ts';

export interface MigrateOptions {
  source: Config;
  target: Config;
  /** Where the configs came from, for messages. */
  sourceFile?: string;
  targetFile?: string;
  /** Count what would be copied; write nothing. */
  dryRun?: boolean;
  /** Blobs copied at once (default 4). */
  concurrency?: number;
  progress: Progress;
  /** The storage drivers of a config (main.ts's createDriver unless given). */
  driver?: (config: Config) => Promise<StorageDriver>;
}

export interface MigrateSummary {
  dryRun: boolean;
  blobs: BlobReport;
  tables: Record<string, TableReport>;
  keys: KeyReport;
  /** Absent in a dry run, and when blobs failed (nothing else was done then). */
  verify?: VerifyReport;
  seconds: number;
  /** Every blob copied, every table and blob verified. */
  ok: boolean;
}

/** The connection a database config names, without its password (to tell two configs' databases apart). */
function databaseIdentity(db: DatabaseConfig): string {
  const url = new URL(databaseSettings(db).connectionString);
  url.password = '';
  url.searchParams.sort();
  return `${url.hostname}:${url.port || '5432'}/${url.pathname.slice(1)}?${url.searchParams.toString()}`;
}

/** Refuse configs migrate cannot work with: a ConfigError (exit 78) naming the key. */
export function checkConfigs(opts: Pick<MigrateOptions, 'source' | 'target' | 'sourceFile' | 'targetFile'>): void {
  const { source, target } = opts;
  if (!target.database.enabled) {
    throw new ConfigError([{ path: 'database.enabled', reason: 'the target must keep its metadata in PostgreSQL (database.enabled: true)' }], opts.targetFile);
  }
  if (source.database.enabled) {
    const same = databaseIdentity(source.database) === databaseIdentity(target.database);
    const reason = same
      ? 'source and target are the same database'
      : 'the source already keeps its metadata in PostgreSQL; migrate moves a registry from SQLite';
    throw new ConfigError([{ path: 'database.enabled', reason }], opts.sourceFile);
  }
  if (source.meta.sqlite.path === ':memory:') {
    throw new ConfigError([{ path: 'meta.sqlite.path', reason: 'the source keeps its metadata in memory: there is nothing to migrate' }], opts.sourceFile);
  }
  if (!fs.existsSync(source.meta.sqlite.path)) {
    throw new ConfigError([{ path: 'meta.sqlite.path', reason: `no database at ${source.meta.sqlite.path}` }], opts.sourceFile);
  }
}

/** The source's key files, when their directory exists (never created: the source is only read). */
function sourceKeys(config: Config): Pick<SigningKeySource, 'read'> | undefined {
  const dir = keyDirectory(config);
  return dir !== undefined && fs.existsSync(dir) ? readOnlyKeyFiles(dir) : undefined;
}

/** A key source with no keys, standing for a target whose schema is not there yet. */
const emptyKeys: SigningKeySource = {
  version: async () => '',
  read: async () => [],
  add: async () => {
    throw new Error('not a real key source');
  },
  remove: async () => undefined,
};

async function defaultDriver(config: Config): Promise<StorageDriver> {
  const { createDriver } = await import('../main.ts');
  return createDriver(config);
}

export async function migrate(opts: MigrateOptions): Promise<MigrateSummary> {
  const started = Date.now();
  checkConfigs(opts);
  const dryRun = opts.dryRun === true;
  const driver = opts.driver ?? defaultDriver;
  const snapshot = SourceSnapshot.open(opts.source.meta.sqlite.path);
  try {
    const unknown = unknownTables(snapshot);
    if (unknown.length > 0) throw new Error(`the source has tables this berth does not know how to migrate: ${unknown.join(', ')} (upgrade berth)`);
    const blobs = snapshot.blobs();
    const target = await driver(opts.target);
    const blobReport = await copyBlobs({
      source: await driver(opts.source),
      target,
      blobs,
      journaled: (digest) => snapshot.journaled(digest),
      concurrency: opts.concurrency ?? 4,
      dryRun,
      progress: opts.progress,
    });
    const summary: MigrateSummary = { dryRun, blobs: blobReport, tables: {}, keys: { total: 0, copied: 0 }, seconds: 0, ok: false };
    if (blobReport.failed.length > 0) {
      opts.progress.note(`${blobReport.failed.length} blob(s) could not be copied: no metadata was copied`);
      summary.seconds = (Date.now() - started) / 1000;
      return summary;
    }
    const { openPostgresBackend } = await import('../meta/postgres/backend.ts');
    // a dry run neither migrates nor writes: it reads the target as it is
    const backend = await openPostgresBackend(opts.target.database, { readOnly: dryRun });
    try {
      summary.tables = await copyTables(backend.database, { source: snapshot, progress: opts.progress, dryRun });
      const targetKeys = signingKeySource(opts.target, backend.keys);
      // a dry run against a database not migrated yet: every key would be copied
      const unmigrated = dryRun && (await backend.database.one<{ t: string | null }>("SELECT to_regclass('signing_keys')::text AS t"))?.t === null;
      if (targetKeys !== undefined) summary.keys = await copySigningKeys(sourceKeys(opts.source), unmigrated ? emptyKeys : targetKeys, { dryRun });
      if (!unmigrated) {
        const sealing = await copySealingKey(keyDirectory(opts.source), backend.sealingKey, { dryRun });
        summary.keys = { total: summary.keys.total + sealing.total, copied: summary.keys.copied + sealing.copied };
      }
      if (!dryRun) {
        summary.verify = await verifyTarget({
          source: snapshot,
          tables: Object.keys(summary.tables),
          db: backend.database,
          blobs,
          target,
          progress: opts.progress,
        });
        summary.ok = summary.verify.tables.length === 0 && summary.verify.blobsMissing.length === 0;
      } else {
        summary.ok = true;
      }
    } finally {
      await backend.close();
    }
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  } finally {
    snapshot.close();
  }
}
