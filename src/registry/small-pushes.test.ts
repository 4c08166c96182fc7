/**
 * Small pushes (POST, then PUT ?digest= with the whole blob) through the upload service, on SQLite
 * and the filesystem as the server runs them, with the meta store's WAL flush observed: concurrent
 * pushes share a flush and none is acknowledged before a flush that covers it has ended; the
 * refusals of the small path (wrong digest, a body declared small that is not, a guard) link nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WalFlushes } from '../../test/helpers/wal-flushes.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { withPathValidation } from '../storage/base.ts';
import { FilesystemDriver } from '../storage/drivers/fs.ts';
import { BlobJournal, JOURNAL_MAX_BLOB } from './blob-journal.ts';
import { DigestInvalidError, QuotaExceededError, SizeInvalidError } from './errors.ts';
import { RegistryPolicy, type ContentGuard } from './policy.ts';
import { UploadService } from './uploads.ts';

const REPO = 'small/pushes';
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('small pushes', () => {
  let root: string;
  let meta: SqliteMetaStore;
  let journal: BlobJournal;
  let uploads: UploadService;
  let wal: WalFlushes;
  const guards: ContentGuard[] = [];

  const push = async (data: Buffer, digest = digestOf(data), length = data.length) => {
    const { id } = await uploads.start(REPO);
    return uploads.finish(REPO, id, digest, { body: Readable.from([data]), length });
  };

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-small-'));
    const dbFile = path.join(root, 'berth.db');
    wal = new WalFlushes(dbFile);
    guards.length = 0;
    meta = new SqliteMetaStore(dbFile, { flushWal: wal.flushWal });
    const driver = withPathValidation(new FilesystemDriver(root));
    journal = new BlobJournal(driver, meta, undefined, { checkpointDelayMs: 60_000 });
    uploads = new UploadService(driver, meta, new RegistryPolicy({ deleteEnabled: true, readOnly: false, guards }), journal);
  });
  afterEach(async () => {
    await journal.close();
    await meta.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('32 concurrent pushes share the WAL flush, each acknowledged once a flush covering it has ended', async () => {
    const release = wal.holdFlushes();
    const blobs = Array.from({ length: 32 }, (_, i) => Buffer.alloc(4096, i));
    const acked = blobs.map(async (b) => {
      const blob = await push(b);
      assert.ok(wal.durable(blob.digest), `${blob.digest} acknowledged before its commit was on disk`);
    });
    // the first flush is held until every push has committed: the other 31 must share the next
    await wal.untilLinked(blobs.length);
    release();
    await Promise.all(acked);
    assert.equal(wal.flushes.length, 2, '32 pushes, 2 WAL flushes');
    assert.deepEqual(await meta.journaledBlobs(100).then((j) => j.length), 32, 'each went through the blob journal');
  });

  it('a pusher alone is acknowledged after its own flush', async () => {
    for (let i = 0; i < 3; i++) await push(Buffer.from(`alone ${i}`));
    assert.equal(wal.flushes.length, 3);
    assert.ok(wal.flushes.every((f) => f.done));
  });

  it('refuses a wrong digest, a body declared small that is not, and a guard, linking nothing', async () => {
    const data = Buffer.from('refused');
    await assert.rejects(push(data, digestOf(Buffer.from('other'))), DigestInvalidError);
    const large = Buffer.alloc(JOURNAL_MAX_BLOB + 1);
    await assert.rejects(push(large, digestOf(large), 3), SizeInvalidError, 'declared small, larger than the journal takes');
    guards.push({
      blobLink: async () => {
        throw new QuotaExceededError('over quota');
      },
    });
    await assert.rejects(push(data), QuotaExceededError);
    assert.equal(wal.linked().size, 0);
    assert.equal(wal.flushes.length, 0, 'nothing to make durable');
  });
});
