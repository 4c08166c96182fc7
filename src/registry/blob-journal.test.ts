import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WalFlushes } from '../../test/helpers/wal-flushes.ts';
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
    const wal = new WalFlushes(path.join(root, 'group.db'));
    const group = new SqliteMetaStore(path.join(root, 'group.db'), { flushWal: wal.flushWal });
    const pushes = new BlobJournal(withPathValidation(new FilesystemDriver(root)), group, undefined, { checkpointDelayMs: 60_000 });
    try {
      const release = wal.holdFlushes();
      const blobs = Array.from({ length: 16 }, (_, i) => Buffer.from(`small blob ${i}`));
      const acked = blobs.map(async (b) => {
        const d = digestOf(b);
        await pushes.commit('j/group', { digest: d, size: b.length }, b);
        assert.ok(wal.durable(d), `${d} acknowledged before a flush that covers it ended`);
      });
      // hold the first flush until every push has committed, so the rest must share one
      await wal.untilLinked(blobs.length);
      release();
      await Promise.all(acked);
      assert.equal(wal.flushes.length, 2, 'sixteen pushes, two flushes: the one running and the one they shared');
      assert.equal(wal.flushes[1]!.covers.size, blobs.length);
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
