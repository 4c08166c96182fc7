/**
 * The filesystem driver: the shared conformance suite on a fresh temp root per test, then
 * fs-specific behaviour: temp files never visible, write coalescing, fdatasync on commit and in
 * the background, sync failures surfaced, the EXDEV fallback of move, pruning and a lazy root.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withPathValidation } from '../base.ts';
import { runDriverConformance } from '../conformance.ts';
import type { StorageDriver } from '../driver.ts';
import { FilesystemDriver, type FilesystemDriverOptions } from './fs.ts';

const MiB = 1024 * 1024;

async function tempRoot(): Promise<string> {
  return fs.mkdtemp(nodePath.join(os.tmpdir(), 'berth-fs-'));
}

runDriverConformance('filesystem', async () => {
  const root = await tempRoot();
  return {
    driver: withPathValidation(new FilesystemDriver(root)),
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
    listLeftovers: () => fs.readdir(root, { recursive: true }),
  };
});

/** A validated driver on a fresh root, removed when the test ends. */
async function setup(t: TestContext, options: FilesystemDriverOptions = {}): Promise<{ d: StorageDriver; root: string }> {
  const root = await tempRoot();
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  return { d: withPathValidation(new FilesystemDriver(root, options)), root };
}

/** The prototype every FileHandle shares, to observe or fail its syncs. */
async function fileHandlePrototype(root: string): Promise<FileHandle> {
  const probe = await fs.open(root, 'r');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

describe('filesystem driver specifics', () => {
  it('putContent never exposes its temp file and cleans it up on failure', async (t) => {
    const { d, root } = await setup(t);
    let listings = 0;
    let putting = true;
    const puts = Promise.all(Array.from({ length: 20 }, (_, i) => d.putContent('/p/f', Buffer.alloc(256 * 1024, i)))).finally(() => {
      putting = false;
    });
    while (putting) {
      const names = await d.list('/p').catch(() => []);
      assert.ok(names.every((n) => n === '/p/f'), `unexpected entries: ${names.join(', ')}`);
      listings++;
    }
    await puts;
    assert.ok(listings > 0);
    assert.deepEqual(await fs.readdir(nodePath.join(root, 'p')), ['f']);

    t.mock.method(await fileHandlePrototype(root), 'writeFile', async () => {
      throw errnoError('ENOSPC');
    });
    await assert.rejects(d.putContent('/p/f', Buffer.from('never')), /ENOSPC/);
    await assert.rejects(d.putContent('/p/g', Buffer.from('never')), /ENOSPC/);
    assert.deepEqual(await fs.readdir(nodePath.join(root, 'p')), ['f']);
  });

  it('hides stray temp files (from a crash) from list and walk', async (t) => {
    const { d, root } = await setup(t);
    await d.putContent('/a/real', Buffer.from('x'));
    await fs.writeFile(nodePath.join(root, 'a', '.tmp-0123456789abcdef'), 'half written');
    assert.deepEqual(await d.list('/a'), ['/a/real']);
    const seen: string[] = [];
    await d.walk('/', (info) => {
      seen.push(info.path);
    });
    assert.deepEqual(seen, ['/a/real']);
  });

  it('coalesces small writes into buffers before they reach the file', async (t) => {
    const { d, root } = await setup(t, { directIO: false }); // direct writes: fs-direct.test.ts
    const onDisk = async (): Promise<number> => (await fs.stat(nodePath.join(root, 'w', 'f'))).size;
    const w = await d.writer('/w/f', false);
    await w.write(Buffer.alloc(100, 1));
    assert.equal(w.size, 100);
    assert.equal(await onDisk(), 0, 'a small write stays in the buffer');
    await w.write(Buffer.alloc(MiB - 100, 2));
    assert.equal(await onDisk(), MiB, 'a full buffer is written out');
    await w.write(Buffer.alloc(10, 3));
    assert.equal(w.size, MiB + 10);
    assert.equal(await onDisk(), MiB);
    await w.close();
    assert.equal(await onDisk(), MiB + 10, 'close writes the tail');
    const resumed = await d.writer('/w/f', true);
    assert.equal(resumed.size, MiB + 10);
    await resumed.cancel();
    await assert.rejects(fs.stat(nodePath.join(root, 'w')), /ENOENT/);
  });

  it('fdatasyncs on commit and putContent, not on close', async (t) => {
    const { d, root } = await setup(t);
    const proto = await fileHandlePrototype(root);
    const datasync = t.mock.method(proto, 'datasync');
    const sync = t.mock.method(proto, 'sync');
    const counts = (): [number, number] => [datasync.mock.callCount(), sync.mock.callCount()];

    const w = await d.writer('/w/f', false);
    await w.write(Buffer.from('kept, not durable'));
    await w.close();
    assert.deepEqual(counts(), [0, 2], 'no fdatasync; fsync of the directory made for the file and of its new entry');

    const again = await d.writer('/w/f', true);
    await again.write(Buffer.from('!'));
    await again.commit();
    assert.deepEqual(counts(), [1, 2], 'commit of an append: fdatasync the file only');

    const created = await d.writer('/w/h', false);
    await created.write(Buffer.from('new'));
    await created.commit();
    assert.deepEqual(counts(), [2, 3], 'commit of a created file: fdatasync it, fsync its directory');

    await d.putContent('/w/g', Buffer.from('small'));
    assert.deepEqual(counts(), [3, 4], 'putContent: fdatasync the temp file, fsync the directory');
  });

  it('putContent with durable: false syncs nothing until flush, which syncs each directory once', async (t) => {
    const { d, root } = await setup(t);
    await d.putContent('/lazy/warmup', Buffer.from('x'));
    const proto = await fileHandlePrototype(root);
    const datasync = t.mock.method(proto, 'datasync');
    const sync = t.mock.method(proto, 'sync');
    await d.putContent('/lazy/a', Buffer.from('a'), { durable: false });
    await d.putContent('/lazy/b', Buffer.from('b'), { durable: false });
    assert.equal(datasync.mock.callCount() + sync.mock.callCount(), 0);
    await d.flush(['/lazy/a', '/lazy/b', '/lazy/gone']);
    assert.equal(datasync.mock.callCount(), 2);
    assert.equal(sync.mock.callCount(), 1);
  });

  it('fdatasyncs in the background while writing, one at a time', async (t) => {
    const { d, root } = await setup(t, { bufferSize: 64 * 1024, syncInterval: 256 * 1024 });
    const proto = await fileHandlePrototype(root);
    const original = proto.datasync;
    let active = 0;
    let maxActive = 0;
    const datasync = t.mock.method(proto, 'datasync', async function (this: FileHandle): Promise<void> {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await sleep(20);
        await original.call(this);
      } finally {
        active--;
      }
    });
    const w = await d.writer('/w/f', false);
    let writesDuringSync = 0;
    for (let i = 0; i < 256; i++) {
      await w.write(Buffer.alloc(16 * 1024, i));
      if (active > 0) writesDuringSync++;
      if (i % 16 === 15) await sleep(10); // a network-paced client: syncs get to finish
    }
    const backgroundSyncs = datasync.mock.callCount();
    await w.commit();
    assert.ok(backgroundSyncs >= 2, `expected background syncs, saw ${backgroundSyncs}`);
    assert.ok(writesDuringSync > 0, 'writes must not wait for a background sync');
    assert.equal(maxActive, 1, 'never more than one sync at a time');
    assert.equal((await d.stat('/w/f')).size, 4 * MiB);
  });

  it('with deferSync, syncs nothing while writing and everything on commit', async (t) => {
    const { d, root } = await setup(t, { bufferSize: 64 * 1024, syncInterval: 256 * 1024 });
    const datasync = t.mock.method(await fileHandlePrototype(root), 'datasync');
    const w = await d.writer('/w/deferred', false, { deferSync: true });
    for (let i = 0; i < 64; i++) await w.write(Buffer.alloc(16 * 1024, i));
    assert.equal(datasync.mock.callCount(), 0);
    await w.commit();
    assert.equal(datasync.mock.callCount(), 1);
    assert.equal((await d.stat('/w/deferred')).size, MiB);
  });

  it('reports a failed background sync instead of acknowledging the bytes', async (t) => {
    const { d, root } = await setup(t, { bufferSize: 16 * 1024, syncInterval: 64 * 1024 });
    t.mock.method(await fileHandlePrototype(root), 'datasync', async () => {
      throw errnoError('EIO');
    });
    const w = await d.writer('/w/f', false);
    await w.write(Buffer.alloc(64 * 1024));
    await sleep(10);
    await assert.rejects(w.write(Buffer.alloc(10)), /EIO/);
    await assert.rejects(w.commit(), /EIO/);
    await w.cancel();
    assert.deepEqual(await fs.readdir(root), []);
  });

  it('streams reads in 1 MiB pieces', async (t) => {
    const { d } = await setup(t);
    await d.putContent('/r/f', Buffer.alloc(3 * MiB, 7));
    const stream = await d.reader('/r/f', { offset: 1 });
    assert.equal(stream.readableHighWaterMark, MiB);
    let total = 0;
    for await (const chunk of stream) {
      assert.ok((chunk as Buffer).length <= MiB);
      total += (chunk as Buffer).length;
    }
    assert.equal(total, 3 * MiB - 1);
  });

  it('moves across filesystems by copy when rename fails with EXDEV', async (t) => {
    const { d, root } = await setup(t);
    const bytes = Buffer.alloc(2 * MiB + 5, 9);
    await d.putContent('/up/u1/data', bytes);
    await d.putContent('/blobs/x/data', Buffer.from('replaced'));
    const rename = fs.rename;
    let failed = 0;
    t.mock.method(fs, 'rename', async (from: string, to: string): Promise<void> => {
      if (failed++ === 0) throw errnoError('EXDEV');
      return rename(from, to);
    });
    await d.move('/up/u1/data', '/blobs/x/data');
    assert.ok(failed >= 2, 'the fallback renames its copy into place');
    assert.deepEqual(await d.getContent('/blobs/x/data'), bytes);
    assert.deepEqual(await d.list('/up/u1'), [], 'the source is gone, its directory kept for the next file');
    assert.deepEqual(await fs.readdir(nodePath.join(root, 'blobs', 'x')), ['data']);
    await d.delete('/up');
  });

  it('creates the root lazily and never prunes it', async (t) => {
    const parent = await tempRoot();
    t.after(() => fs.rm(parent, { recursive: true, force: true }));
    const root = nodePath.join(parent, 'not', 'yet');
    const d = withPathValidation(new FilesystemDriver(root));
    assert.deepEqual(await d.list('/'), []);
    await d.walk('/', () => assert.fail('nothing to visit'));
    await d.putContent('/a/b/c', Buffer.from('x'));
    await d.delete('/a/b/c');
    assert.deepEqual(await fs.readdir(root), []);
  });
});
