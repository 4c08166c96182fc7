/** The blob phase of `berth migrate` between two memory drivers: copy, skip on a second run, refuse bytes that do not match their digest. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PathNotFoundError, type FileWriter, type StorageDriver } from '../storage/driver.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobPath, copyBlobs } from './blobs.ts';
import { silentProgress } from './progress.ts';

function blob(content: string): { digest: string; size: number; data: Buffer } {
  const data = Buffer.from(content);
  return { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length, data };
}

async function put(driver: MemoryDriver, b: { digest: string; data: Buffer }): Promise<void> {
  await driver.putContent(blobPath(b.digest), b.data);
}

describe('copyBlobs', () => {
  it('copies every blob, then skips them all on a second run', async () => {
    const source = new MemoryDriver();
    const target = new MemoryDriver();
    const blobs = Array.from({ length: 9 }, (_, i) => blob(`blob ${i} `.repeat(i * 1000 + 1)));
    for (const b of blobs) await put(source, b);
    const first = await copyBlobs({ source, target, blobs, progress: silentProgress, concurrency: 3 });
    assert.deepEqual({ ...first, failed: first.failed.length }, { total: 9, copied: 9, skipped: 0, bytes: blobs.reduce((s, b) => s + b.size, 0), failed: 0 });
    for (const b of blobs) assert.deepEqual(await target.getContent(blobPath(b.digest)), b.data);
    const second = await copyBlobs({ source, target, blobs, progress: silentProgress });
    assert.equal(second.copied, 0);
    assert.equal(second.skipped, 9);
    assert.equal(second.bytes, 0);
  });

  it('reports a blob whose bytes do not hash to its digest and writes nothing for it', async () => {
    const source = new MemoryDriver();
    const target = new MemoryDriver();
    const good = blob('good');
    const bad = blob('what the digest says');
    await put(source, good);
    await source.putContent(blobPath(bad.digest), Buffer.from('what the disk holds!'));
    const report = await copyBlobs({ source, target, blobs: [good, bad], progress: silentProgress });
    assert.equal(report.copied, 1);
    assert.equal(report.failed.length, 1);
    assert.equal(report.failed[0]?.digest, bad.digest);
    assert.match(report.failed[0]?.reason ?? '', /hash to sha256:/);
    await assert.rejects(target.stat(blobPath(bad.digest)), { code: 'BERTH_PATH_NOT_FOUND' });
  });

  it('reports a blob missing from the source, and a recorded size that differs', async () => {
    const source = new MemoryDriver();
    const target = new MemoryDriver();
    const gone = blob('gone');
    const sized = blob('sized');
    await put(source, sized);
    const report = await copyBlobs({ source, target, blobs: [gone, { digest: sized.digest, size: 99 }], progress: silentProgress });
    assert.equal(report.copied, 0);
    assert.deepEqual(report.failed.map((f) => f.reason).sort(), ['5 bytes in the source, 99 recorded', 'missing from the source storage'].sort());
  });

  it('takes a journaled blob from the journal when its file is missing', async () => {
    const source = new MemoryDriver();
    const target = new MemoryDriver();
    const kept = blob('journaled');
    const report = await copyBlobs({ source, target, blobs: [kept], journaled: (d) => (d === kept.digest ? kept.data : undefined), progress: silentProgress });
    assert.equal(report.copied, 1);
    assert.deepEqual(await target.getContent(blobPath(kept.digest)), kept.data);
  });

  it('copies a blob whose target copy has the wrong size (an interrupted run), and counts without writing in a dry run', async () => {
    const source = new MemoryDriver();
    const target = new MemoryDriver();
    const b = blob('complete content');
    await put(source, b);
    await target.putContent(blobPath(b.digest), Buffer.from('compl'));
    const dry = await copyBlobs({ source, target, blobs: [b], dryRun: true, progress: silentProgress });
    assert.deepEqual([dry.copied, dry.bytes], [1, b.size]);
    assert.equal((await target.stat(blobPath(b.digest))).size, 5);
    const real = await copyBlobs({ source, target, blobs: [b], progress: silentProgress });
    assert.equal(real.copied, 1);
    assert.deepEqual(await target.getContent(blobPath(b.digest)), b.data);
  });

  it('keeps memory flat in blob size: a chunk is read only once the target took the one before', async () => {
    const MiB = 1024 * 1024;
    const chunks = 128;
    const chunk = (i: number): Buffer => Buffer.alloc(MiB, i % 251);
    const hash = createHash('sha256');
    for (let i = 0; i < chunks; i++) hash.update(chunk(i));
    const big = { digest: `sha256:${hash.digest('hex')}`, size: chunks * MiB };
    let peak = 0;
    let received = 0;
    let committed = false;
    const source = { reader: async () => Readable.from((function* () { for (let i = 0; i < chunks; i++) yield chunk(i); })()) } as unknown as StorageDriver;
    const writer: FileWriter = {
      get size() {
        return received;
      },
      async write(buf) {
        received += buf.length;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        await tick(); // a slow target
      },
      commit: async () => void (committed = true),
      close: async () => undefined,
      cancel: async () => undefined,
    };
    const target = {
      stat: async (p: string) => {
        throw new PathNotFoundError(p);
      },
      writer: async () => writer,
    } as unknown as StorageDriver;
    const before = process.memoryUsage().arrayBuffers;
    const report = await copyBlobs({ source, target, blobs: [big], progress: silentProgress });
    assert.deepEqual([report.copied, report.failed, received, committed], [1, [], big.size, true]);
    assert.ok(peak - before < 48 * MiB, `buffers grew by ${Math.round((peak - before) / MiB)} MiB copying ${chunks} MiB`);
  });
});
