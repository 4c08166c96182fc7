/**
 * backup and restore on a SQLite meta store and the filesystem driver: the snapshot and its blob
 * list, --with-blobs by hard link, a restore onto a wiped root that puts back the database, keys
 * and blobs; each refusal (DEST not empty, a file, inside the storage, its parent missing; a SRC
 * that is not a finished backup, a corrupt snapshot, a newer berth's schema; a database in use).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { silentProgress } from '../migrate/progress.ts';
import { FilesystemDriver } from '../storage/drivers/fs.ts';
import { blobDataPath } from '../storage/paths.ts';
import { backup, BackupRefused } from './backup.ts';
import { databaseInUse } from './backup-lock.ts';
import { restore } from './backup-restore.ts';

const digestOf = (data: string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('backup and restore', () => {
  let dir: string;
  let root: string;
  let config: Config;
  let driver: FilesystemDriver;
  let keyDir: string;

  const seed = async (): Promise<string[]> => {
    const meta = new SqliteMetaStore(config.meta.sqlite.path);
    const digests: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const digest = digestOf(text);
      await driver.putContent(blobDataPath('sha256', digest.slice(7)), Buffer.from(text));
      await meta.linkBlob('r/app', { digest, size: text.length });
      digests.push(digest);
    }
    const journaled = digestOf('journaled');
    await meta.linkBlob('r/app', { digest: journaled, size: 9 }, { journal: Buffer.from('journaled') });
    digests.push(journaled);
    await meta.close();
    fs.mkdirSync(keyDir, { recursive: true });
    fs.writeFileSync(path.join(keyDir, 'k1.jwk.json'), '{"kid":"k1"}');
    return digests.sort();
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-backup-'));
    root = path.join(dir, 'root');
    config = loadConfig({ env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root } }).config;
    driver = new FilesystemDriver(root);
    keyDir = path.join(root, 'auth', 'keys');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('snapshots the database with its blob list and keys, and restores it onto a wiped root with its blobs', async () => {
    const digests = await seed();
    const dest = path.join(dir, 'backup');
    const summary = await backup({ config, dest, withBlobs: true, openDriver: async () => driver, progress: silentProgress }, keyDir);
    assert.equal(summary.blobs, 4);
    assert.equal(summary.journaled, 1);
    assert.equal(summary.keys, 1);
    assert.equal(summary.linked, 3, 'hard links on the same filesystem');
    assert.deepEqual(summary.missing, [], 'the journaled blob comes from the journal when its file is not there');
    assert.equal(fs.statSync(dest).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dest, 'berth.db')).mode & 0o777, 0o600);
    const list = fs.readFileSync(path.join(dest, 'blobs.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')[0]);
    assert.deepEqual(list, digests);
    const info = JSON.parse(fs.readFileSync(path.join(dest, 'backup.json'), 'utf8')) as { blobs: number; migrations: number[] };
    assert.equal(info.blobs, 4);
    assert.ok(info.migrations.length > 0);

    fs.rmSync(root, { recursive: true });
    const restored = await restore({ config, src: dest, openDriver: async () => driver, keyDir, progress: silentProgress });
    assert.equal(restored.previous, undefined);
    assert.deepEqual([restored.present, restored.restored, restored.missing.length], [0, 4, 0]);
    assert.equal(restored.ok, true);
    assert.equal(fs.readFileSync(path.join(keyDir, 'k1.jwk.json'), 'utf8'), '{"kid":"k1"}');
    const meta = new SqliteMetaStore(config.meta.sqlite.path);
    for (const d of digests) assert.ok(await meta.getRepositoryBlob('r/app', d), d);
    await meta.close();
    assert.equal((await driver.getContent(blobDataPath('sha256', digestOf('two').slice(7)))).toString(), 'two');
  });

  it('copies blobs to another device, checking each, and counts a corrupt one as missing', { skip: fs.existsSync('/dev/shm') ? false : 'no /dev/shm' }, async () => {
    const digests = await seed();
    await driver.putContent(blobDataPath('sha256', digestOf('two').slice(7)), Buffer.from('not two'));
    const shm = fs.mkdtempSync(path.join('/dev/shm', 'berth-backup-'));
    try {
      const dest = path.join(shm, 'b');
      const summary = await backup({ config, dest, withBlobs: true, openDriver: async () => driver, progress: silentProgress }, keyDir);
      assert.deepEqual([summary.linked, summary.copied, summary.missing], [0, 2, [digestOf('two')]]);
      assert.equal(fs.readFileSync(path.join(dest, 'blobs', 'sha256', digestOf('one').slice(7, 9), digestOf('one').slice(7)), 'utf8'), 'one');
      assert.equal(digests.length, 4);
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it('keeps the database it replaces, and reports blobs storage lacks', async () => {
    const digests = await seed();
    const dest = path.join(dir, 'backup');
    await backup({ config, dest, openDriver: async () => driver, progress: silentProgress }, keyDir);
    fs.rmSync(path.join(root, 'blobs', 'sha256', digestOf('one').slice(7, 9)), { recursive: true });
    const restored = await restore({ config, src: dest, openDriver: async () => driver, keyDir, progress: silentProgress });
    assert.match(restored.previous ?? '', /berth\.db\.before-restore-/);
    assert.ok(fs.existsSync(restored.previous ?? ''));
    assert.deepEqual(restored.missing, [digestOf('one')]);
    assert.equal(restored.journaled, 1, 'the journaled blob (never written to storage here) is left to berth serve');
    assert.equal(restored.ok, false);
    assert.equal(digests.length, 4);
  });

  it('refuses a DEST that is not empty, a file, inside the storage, or under a missing directory', async () => {
    await seed();
    const refuse = (dest: string, why: RegExp) => assert.rejects(backup({ config, dest, openDriver: async () => driver, progress: silentProgress }, keyDir), (err: Error) => err instanceof BackupRefused && why.test(err.message));
    fs.mkdirSync(path.join(dir, 'full'));
    fs.writeFileSync(path.join(dir, 'full', 'x'), 'x');
    await refuse(path.join(dir, 'full'), /is not empty/);
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    await refuse(path.join(dir, 'file'), /not a directory/);
    await refuse(path.join(root, 'backups'), /inside the storage/);
    await refuse(path.join(dir, 'no', 'such'), /does not exist/);
    fs.mkdirSync(path.join(dir, 'empty'));
    assert.equal((await backup({ config, dest: path.join(dir, 'empty'), openDriver: async () => driver, progress: silentProgress }, keyDir)).blobs, 4, 'an empty directory will do');
  });

  it('refuses a SRC that is not a finished backup, a corrupt snapshot, a newer schema, and a database in use', async () => {
    await seed();
    const dest = path.join(dir, 'backup');
    await backup({ config, dest, openDriver: async () => driver, progress: silentProgress }, keyDir);
    const refuse = (src: string, why: RegExp) => assert.rejects(restore({ config, src, openDriver: async () => driver, keyDir, progress: silentProgress }), (err: Error) => err instanceof BackupRefused && why.test(err.message));
    await refuse(path.join(dir, 'nothing'), /does not exist/);
    await refuse(path.join(dest, 'berth.db'), /not a directory/);
    fs.mkdirSync(path.join(dir, 'half'));
    fs.copyFileSync(path.join(dest, 'berth.db'), path.join(dir, 'half', 'berth.db'));
    await refuse(path.join(dir, 'half'), /no backup\.json/);

    const newer = path.join(dir, 'newer');
    fs.cpSync(dest, newer, { recursive: true });
    const db = new Database(path.join(newer, 'berth.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, ?, 0)').run('from the future');
    db.close();
    await refuse(newer, /migrations 9999 that this berth does not know/);

    const corrupt = path.join(dir, 'corrupt');
    fs.cpSync(dest, corrupt, { recursive: true });
    const file = path.join(corrupt, 'berth.db');
    const bytes = fs.readFileSync(file);
    bytes.fill(0xff, 4096, Math.min(bytes.length, 4096 * 4));
    fs.writeFileSync(file, bytes);
    await refuse(corrupt, /integrity check|not a usable SQLite database/);

    const serving = new SqliteMetaStore(config.meta.sqlite.path);
    try {
      await serving.ping();
      assert.equal(databaseInUse(config.meta.sqlite.path), true);
      await refuse(dest, /is in use \(a berth is serving it/);
    } finally {
      await serving.close();
    }
    assert.equal(databaseInUse(config.meta.sqlite.path), false, 'free once closed');
    assert.equal((await restore({ config, src: dest, openDriver: async () => driver, keyDir, progress: silentProgress })).ok, true);
  });
});
