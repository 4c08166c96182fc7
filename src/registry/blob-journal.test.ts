import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { withPathValidation } from '../storage/base.ts';
import { FilesystemDriver } from '../storage/drivers/fs.ts';
import { BlobJournal } from './blob-journal.ts';
import { digestOf } from './digest.ts';

describe('blob journal', () => {
  let root: string;
  let meta: SqliteMetaStore;
  let journal: BlobJournal;
  const data = Buffer.from('a small config blob');
  const digest = digestOf(data);
  const file = () => path.join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-journal-'));
    meta = new SqliteMetaStore(path.join(root, 'berth.db'));
    journal = new BlobJournal(withPathValidation(new FilesystemDriver(root)), meta, undefined, { checkpointDelayMs: 60_000 });
  });
  afterEach(async () => {
    await journal.close();
    await meta.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('commits bytes and link together, and a checkpoint empties the journal', async () => {
    await journal.commit('j/app', { digest, size: data.length }, data);
    assert.ok((await fs.readFile(file())).equals(data));
    assert.ok(await meta.getRepositoryBlob('j/app', digest));
    assert.equal((await meta.journaledBlobs(10)).length, 1);
    assert.equal(await journal.checkpoint(), 1);
    assert.deepEqual(await meta.journaledBlobs(10), []);
  });

  it('restores a blob whose file a crash lost or tore, before anything is served', async () => {
    await journal.commit('j/app', { digest, size: data.length }, data);
    await fs.rm(file());
    assert.equal(await journal.recover(), 1);
    assert.ok((await fs.readFile(file())).equals(data));
    assert.deepEqual(await meta.journaledBlobs(10), [], 'recovery checkpoints');

    const other = Buffer.from('another one');
    const otherDigest = digestOf(other);
    await journal.commit('j/app', { digest: otherDigest, size: other.length }, other);
    const otherFile = path.join(root, 'blobs', 'sha256', otherDigest.slice(7, 9), otherDigest.slice(7));
    await fs.writeFile(otherFile, 'anoth'); // torn write
    assert.equal(await journal.recover(), 1);
    assert.equal(await fs.readFile(otherFile, 'utf8'), 'another one');
    assert.equal(await journal.recover(), 0, 'nothing left to repair');
  });

  it('concurrent commits share the WAL flush, and each is on disk when it resolves', async () => {
    // The meta store's WAL flush, observed: what was committed when each flush began, and whether it ended.
    const dbFile = path.join(root, 'group.db');
    const reader = () => new Database(dbFile, { readonly: true });
    const flushes: { covers: Set<string>; done: boolean }[] = [];
    let hold: Promise<void> | undefined;
    const flushWal = async () => {
      const db = reader();
      const f = { covers: new Set((db.prepare('SELECT digest FROM blobs').pluck().all() as string[])), done: false };
      db.close();
      flushes.push(f);
      await hold;
      const wal = await fs.open(`${dbFile}-wal`, 'r');
      await wal.datasync();
      await wal.close();
      f.done = true;
    };
    const group = new SqliteMetaStore(dbFile, { flushWal });
    const pushes = new BlobJournal(withPathValidation(new FilesystemDriver(root)), group, undefined, { checkpointDelayMs: 60_000 });
    try {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      const blobs = Array.from({ length: 16 }, (_, i) => Buffer.from(`small blob ${i}`));
      const acked = blobs.map(async (b) => {
        const d = digestOf(b);
        await pushes.commit('j/group', { digest: d, size: b.length }, b);
        const durable = flushes.some((f) => f.done && f.covers.has(d));
        assert.ok(durable, `${d} acknowledged before a flush that covers it ended`);
      });
      // hold the first flush until every push has committed, so the rest must share one
      const db = reader();
      const count = db.prepare('SELECT count(*) FROM blobs').pluck();
      for (let i = 0; (count.get() as number) < blobs.length; i++) {
        assert.ok(i < 100_000, 'pushes did not commit');
        await new Promise(setImmediate);
      }
      db.close();
      release();
      await Promise.all(acked);
      assert.equal(flushes.length, 2, 'sixteen pushes, two flushes: the one running and the one they shared');
      assert.equal(flushes[1]!.covers.size, blobs.length);
    } finally {
      await pushes.close();
      await group.close();
    }
  });

  it('a checkpoint rewrites a journaled file that vanished before it drops the copy', async () => {
    await journal.commit('j/app', { digest, size: data.length }, data);
    await fs.rm(file());
    assert.equal(await journal.checkpoint(), 1);
    assert.ok((await fs.readFile(file())).equals(data));
    assert.deepEqual(await meta.journaledBlobs(10), []);
  });
});
