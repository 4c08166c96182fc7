/**
 * `berth restore SRC`: put a backup (backup.ts) back as the meta store of this config, with the
 * berth that serves it stopped.
 *
 *  1. SRC is checked: backup.json present (a finished backup), the snapshot passes SQLite's
 *     integrity check, and it holds no schema migration this berth does not know (a newer
 *     berth's backup); older ones are fine: berth serve applies the rest when it starts.
 *  2. The database in place is refused while a process holds it open (backup-lock.ts: stop berth
 *     first). Otherwise it is kept, renamed <file>.before-restore-<time>, never deleted.
 *  3. The snapshot is copied in (a temporary file, fsynced, renamed over the path), and the
 *     signing keys it holds are added to the key directory (keys there already are kept).
 *  4. Every blob the snapshot records is looked for in storage: one storage lacks is copied in
 *     from SRC/blobs (a --with-blobs backup; verified against its digest), or left to berth
 *     serve's start-up when the snapshot's blob journal holds it, or else reported missing.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import { MIGRATIONS } from '../meta/sqlite/migrations.ts';
import type { Progress } from '../migrate/progress.ts';
import { pathExists, type StorageDriver } from '../storage/driver.ts';
import { fileToBlob } from './backup-blobs.ts';
import { databaseInUse } from './backup-lock.ts';
import { appliedMigrations, BackupRefused, BLOBS_DIR, INFO_FILE, KEYS_DIR, SNAPSHOT_FILE, type BackupInfo } from './backup.ts';
import { pathOfDigest } from './fsck-scan.ts';

export interface RestoreSummary {
  /** The database restored, and where the one it replaced went (if there was one). */
  database: string;
  previous?: string;
  createdAt: string;
  blobs: number;
  /** Blobs storage holds; copied in from SRC/blobs; held by the snapshot's journal; missing (digests). */
  present: number;
  restored: number;
  journaled: number;
  missing: string[];
  keys: number;
  seconds: number;
  ok: boolean;
}

export interface RestoreOptions {
  config: Config;
  src: string;
  /** The storage (opened only once the backup is checked and the database free). */
  openDriver: () => Promise<StorageDriver>;
  progress: Progress;
  /** Where the token signing keys go (auth/setup.ts keyDirectory), if anywhere. */
  keyDir: string | undefined;
}

function readInfo(src: string): BackupInfo {
  const stat = fs.statSync(src, { throwIfNoEntry: false });
  if (stat === undefined) throw new BackupRefused(`${src} does not exist`);
  if (!stat.isDirectory()) throw new BackupRefused(`${src} is not a directory (berth restore takes the directory berth backup made)`);
  const infoFile = path.join(src, INFO_FILE);
  if (!fs.existsSync(infoFile)) throw new BackupRefused(`${src} has no ${INFO_FILE}: not a berth backup, or one that did not finish`);
  let info: BackupInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as BackupInfo;
  } catch (err) {
    throw new BackupRefused(`${infoFile} is not valid JSON: ${(err as Error).message}`);
  }
  if (info.format !== 1) throw new BackupRefused(`${infoFile}: backup format ${String(info.format)} is not one this berth reads`);
  if (!fs.existsSync(path.join(src, SNAPSHOT_FILE))) throw new BackupRefused(`${src} has no ${SNAPSHOT_FILE}`);
  return info;
}

/** SQLite's integrity check and the schema migrations of the snapshot. */
function verifySnapshot(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupRefused(`${file} fails SQLite's integrity check: ${String(check)}`);
    const known = new Set(MIGRATIONS.map((m) => m.version));
    const unknown = appliedMigrations(db, file).filter((v) => !known.has(v));
    if (unknown.length > 0) throw new BackupRefused(`${file} holds schema migrations ${unknown.join(', ')} that this berth does not know: restore it with the berth that made it, or a newer one`);
  } catch (err) {
    if (err instanceof BackupRefused) throw err;
    throw new BackupRefused(`${file} is not a usable SQLite database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/** Put the snapshot in place of `target`; returns where the database it replaces went. */
function swapIn(snapshot: string, target: string): string | undefined {
  if (fs.existsSync(target) && databaseInUse(target)) {
    throw new BackupRefused(`${target} is in use (a berth is serving it, or another process holds it open): stop berth, then run berth restore again`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.restoring`;
  fs.copyFileSync(snapshot, temp);
  fs.chmodSync(temp, 0o600);
  const fd = fs.openSync(temp, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  let previous: string | undefined;
  if (fs.existsSync(target)) {
    previous = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, previous);
    for (const suffix of ['-wal', '-shm']) if (fs.existsSync(target + suffix)) fs.renameSync(target + suffix, previous + suffix);
  }
  fs.renameSync(temp, target);
  const dir = fs.openSync(path.dirname(target), 'r');
  fs.fsyncSync(dir);
  fs.closeSync(dir);
  return previous;
}

function restoreKeys(src: string, keyDir: string | undefined): number {
  const from = path.join(src, KEYS_DIR);
  if (keyDir === undefined || !fs.existsSync(from)) return 0;
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  let added = 0;
  for (const f of fs.readdirSync(from)) {
    const to = path.join(keyDir, f);
    // regular files only: a link in a backup directory must not copy what it points at
    if (fs.existsSync(to) || !fs.lstatSync(path.join(from, f)).isFile()) continue;
    fs.copyFileSync(path.join(from, f), to);
    fs.chmodSync(to, 0o600);
    added++;
  }
  return added;
}

export async function restore(opts: RestoreOptions): Promise<RestoreSummary> {
  const started = Date.now();
  const src = path.resolve(opts.src);
  const target = opts.config.meta.sqlite.path;
  if (target === ':memory:') throw new BackupRefused('the meta store is in memory (meta.sqlite.path is :memory:): there is nothing to restore into');
  const info = readInfo(src);
  const snapshot = path.join(src, SNAPSHOT_FILE);
  verifySnapshot(snapshot);
  const database = path.resolve(target);
  const previous = swapIn(snapshot, database);
  const summary: RestoreSummary = { database, createdAt: info.createdAt, blobs: 0, present: 0, restored: 0, journaled: 0, missing: [], keys: restoreKeys(src, opts.keyDir), seconds: 0, ok: false };
  if (previous !== undefined) summary.previous = previous;

  const driver = await opts.openDriver();
  const db = new Database(database, { readonly: true });
  try {
    const count = (db.prepare('SELECT COUNT(*) AS n FROM blobs').get() as { n: number }).n;
    const inJournal = db.prepare('SELECT 1 AS one FROM blob_journal WHERE digest = ?');
    const phase = opts.progress.phase('blobs', count, 'blobs');
    for (const { digest } of db.prepare('SELECT digest FROM blobs ORDER BY digest').iterate() as Iterable<{ digest: string }>) {
      summary.blobs++;
      phase.tick(1);
      const at = pathOfDigest(digest);
      if (at !== undefined && (await pathExists(driver, at))) {
        summary.present++;
        continue;
      }
      const kept = at === undefined ? undefined : path.join(src, BLOBS_DIR, ...at.split('/').slice(2));
      if (at !== undefined && kept !== undefined && fs.existsSync(kept)) {
        await fileToBlob(driver, kept, at, digest);
        summary.restored++;
      } else if (inJournal.get(digest) !== undefined) summary.journaled++;
      else summary.missing.push(digest);
    }
    phase.done();
  } finally {
    db.close();
  }
  summary.ok = summary.missing.length === 0;
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
