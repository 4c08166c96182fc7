/**
 * `berth backup DEST`: a consistent snapshot of the SQLite meta store taken while berth serves
 * (SQLite's online backup API, all pages in one step, so in one read transaction: WAL lets the
 * server write meanwhile and nothing it writes after the step began is in the copy), and the list
 * of blobs the snapshot references, so the operator knows which storage objects it needs:
 *
 *   DEST/berth.db       the snapshot (journal_mode DELETE: one self-contained file)
 *   DEST/blobs.tsv      every blob it records, `digest<TAB>size`, in digest order
 *   DEST/keys/          the token signing keys (files beside the database), when there are any
 *   DEST/blobs/<alg>/<2 hex>/<hex>   with --with-blobs: those blobs (hard links where storage is
 *                       the filesystem on the same device, else streamed copies, verified)
 *   DEST/backup.json    what was taken and when; written last, so a backup without it is unfinished
 *
 * DEST must not exist or be an empty directory, outside the storage it backs up; it is made
 * 0700 and its files 0600: the snapshot holds password hashes and the keys sign tokens.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Progress } from '../migrate/progress.ts';
import type { StorageDriver } from '../storage/driver.ts';
import { BlobDigestError, blobToFile, type Copied } from './backup-blobs.ts';
import { pathOfDigest } from './fsck-scan.ts';

export const BACKUP_FORMAT = 1;
export const SNAPSHOT_FILE = 'berth.db';
export const BLOB_LIST_FILE = 'blobs.tsv';
export const INFO_FILE = 'backup.json';
export const KEYS_DIR = 'keys';
export const BLOBS_DIR = 'blobs';

/** backup.json. */
export interface BackupInfo {
  format: number;
  createdAt: string;
  /** The database it was taken from. */
  source: string;
  /** The schema migrations applied in the snapshot. */
  migrations: number[];
  blobs: number;
  bytes: number;
  /** Blobs whose bytes the snapshot's blob journal holds (restored by berth serve at start). */
  journaled: number;
  keys: number;
  withBlobs: boolean;
}

export interface BackupSummary extends BackupInfo {
  dest: string;
  /** With --with-blobs: how each blob came into DEST, and those storage lacked or held corrupt (digests). */
  linked: number;
  copied: number;
  missing: string[];
  seconds: number;
}

export interface BackupOptions {
  config: Config;
  dest: string;
  withBlobs?: boolean;
  /** The storage (opened only once the paths are checked, and only with --with-blobs). */
  openDriver: () => Promise<StorageDriver>;
  progress: Progress;
}

/** A refusal to back up or restore (a bad path, a database in use): exit 1 with its message. */
export class BackupRefused extends Error {
  readonly code = 'BERTH_BACKUP_REFUSED';
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The storage root when storage is the filesystem. */
export function filesystemRoot(config: Config): string | undefined {
  return config.storage.driver === 'filesystem' ? path.resolve(config.storage.filesystem.rootdirectory) : undefined;
}

/** Check DEST can take a backup (absent, or an empty directory, outside the storage); returns its full path. */
function checkDest(config: Config, dest: string): string {
  const full = path.resolve(dest);
  const root = filesystemRoot(config);
  if (root !== undefined && inside(full, root)) throw new BackupRefused(`${full} is inside the storage it would back up (${root}): choose a directory outside it`);
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (stat !== undefined) {
    if (!stat.isDirectory()) throw new BackupRefused(`${full} exists and is not a directory`);
    if (fs.readdirSync(full).length > 0) throw new BackupRefused(`${full} is not empty: back up into a new or empty directory`);
    return full;
  }
  if (!fs.statSync(path.dirname(full), { throwIfNoEntry: false })?.isDirectory()) throw new BackupRefused(`${path.dirname(full)} does not exist`);
  return full;
}

/** The schema migrations applied in a database, or a refusal when it is not a berth database. */
export function appliedMigrations(db: Database.Database, file: string): number[] {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (table === undefined) throw new BackupRefused(`${file} is not a berth database (no schema_migrations)`);
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
}

/** The snapshot: every page copied in one step of the online backup API, then made one self-contained, checked file. */
async function snapshot(source: string, to: string): Promise<void> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    appliedMigrations(db, source);
    // after the first (empty) step, every remaining page in one step: one read transaction, one moment
    await db.backup(to, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  fs.chmodSync(to, 0o600);
  const copy = new Database(to);
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the snapshot fails SQLite's integrity check: ${String(check)}`);
  } finally {
    copy.close();
  }
}

function copyKeys(dest: string, keyDir: string | undefined): number {
  if (keyDir === undefined || !fs.existsSync(keyDir)) return 0;
  const files = fs.readdirSync(keyDir).filter((f) => fs.lstatSync(path.join(keyDir, f)).isFile());
  if (files.length === 0) return 0;
  fs.mkdirSync(path.join(dest, KEYS_DIR), { mode: 0o700 });
  for (const f of files) {
    fs.copyFileSync(path.join(keyDir, f), path.join(dest, KEYS_DIR, f));
    fs.chmodSync(path.join(dest, KEYS_DIR, f), 0o600);
  }
  return files.length;
}

export async function backup(opts: BackupOptions, keyDir: string | undefined): Promise<BackupSummary> {
  const started = Date.now();
  const source = path.resolve(opts.config.meta.sqlite.path);
  const dest = checkDest(opts.config, opts.dest);
  if (!fs.existsSync(source)) throw new BackupRefused(`${source} does not exist: there is no meta store to back up`);
  if (!fs.existsSync(dest)) fs.mkdirSync(dest, { mode: 0o700 });
  const partial = path.join(dest, `${SNAPSHOT_FILE}.partial`);
  await snapshot(source, partial);

  const db = new Database(partial, { readonly: true });
  const summary: BackupSummary = {
    format: BACKUP_FORMAT,
    createdAt: new Date(started).toISOString(),
    source,
    migrations: appliedMigrations(db, partial),
    blobs: 0,
    bytes: 0,
    journaled: (db.prepare('SELECT COUNT(*) AS n FROM blob_journal').get() as { n: number }).n,
    keys: 0,
    withBlobs: opts.withBlobs === true,
    dest,
    linked: 0,
    copied: 0,
    missing: [],
    seconds: 0,
  };
  try {
    const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM blobs').get() as { n: number; bytes: number };
    const list = fs.openSync(path.join(dest, BLOB_LIST_FILE), 'w', 0o600);
    const driver = opts.withBlobs === true ? await opts.openDriver() : undefined;
    const phase = driver === undefined ? undefined : opts.progress.phase('blobs', totals.n, 'blobs');
    const journaled = db.prepare('SELECT data FROM blob_journal WHERE digest = ?');
    try {
      for (const row of db.prepare('SELECT digest, size FROM blobs ORDER BY digest').iterate() as Iterable<{ digest: string; size: number }>) {
        fs.writeSync(list, `${row.digest}\t${row.size}\n`);
        summary.blobs++;
        summary.bytes += row.size;
        const at = pathOfDigest(row.digest);
        if (driver === undefined || phase === undefined || at === undefined) continue;
        const to = path.join(dest, ...at.split('/'));
        // a file whose bytes are not its digest (copied across devices, so checked) counts as missing
        const how: Copied = await blobToFile(driver, filesystemRoot(opts.config), at, row.digest, to).catch((err: unknown) => {
          if (err instanceof BlobDigestError) return 'absent';
          throw err;
        });
        if (how === 'absent') {
          const kept = journaled.get(row.digest) as { data: Buffer } | undefined;
          if (kept === undefined) summary.missing.push(row.digest);
          else fs.writeFileSync(to, kept.data, { mode: 0o600 });
        } else summary[how]++;
        phase.tick(1);
      }
      fs.fsyncSync(list);
    } finally {
      fs.closeSync(list);
      phase?.done();
    }
  } finally {
    db.close();
  }
  summary.keys = copyKeys(dest, keyDir);
  fs.renameSync(partial, path.join(dest, SNAPSHOT_FILE));
  const info: BackupInfo = {
    format: summary.format,
    createdAt: summary.createdAt,
    source,
    migrations: summary.migrations,
    blobs: summary.blobs,
    bytes: summary.bytes,
    journaled: summary.journaled,
    keys: summary.keys,
    withBlobs: summary.withBlobs,
  };
  fs.writeFileSync(path.join(dest, INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
