/**
 * The filesystem driver's direct-I/O writes (fs-direct.ts, fs-writer.ts): the bytes on disk are
 * exactly the bytes written whatever the chunk sizes and the starting offset, full buffers go
 * through O_DIRECT at aligned offsets, a failed direct write is reported instead of acknowledged,
 * and the buffer pool lends a bounded number of second buffers. The conformance suite runs with
 * direct I/O on in fs.test.ts.
 */
import { afterEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { withPathValidation } from '../base.ts';
import type { StorageDriver } from '../driver.ts';
import { AlignedPool, alignedPool, DIRECT_ALIGNMENT, directIOAvailable } from './fs-direct.ts';
import { FilesystemDriver } from './fs.ts';

const KiB = 1024;
const SKIP = directIOAvailable ? false : 'direct I/O is unavailable (native/ addon not built, or not Linux)';

async function setup(t: TestContext, bufferSize = 64 * KiB): Promise<{ d: StorageDriver; root: string }> {
  const root = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'berth-fsd-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  return { d: withPathValidation(new FilesystemDriver(root, { bufferSize, syncInterval: 256 * KiB })), root };
}

/** The prototype every FileHandle shares. */
async function fileHandlePrototype(root: string): Promise<FileHandle> {
  const probe = await fs.open(root, 'r');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `data` cut into pieces of irregular sizes (1 byte to 3 buffers). */
function pieces(data: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(data.length - at, 1 + ((i * 7919 + 13) % max));
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('filesystem driver: direct I/O writes', { skip: SKIP }, () => {
  // Every test's writers return their pool buffers (commit, close and cancel alike).
  afterEach(() => assert.equal(alignedPool(64 * KiB).lentOut, 0, 'a writer kept buffers of the shared pool'));

  it('stores exactly the bytes written, from an unaligned append-open, with full buffers written by O_DIRECT at aligned offsets', async (t) => {
    const { d, root } = await setup(t);
    const proto = await fileHandlePrototype(root);
    const positional: number[] = [];
    const write = proto.write;
    t.mock.method(proto, 'write', function (this: FileHandle, ...args: unknown[]) {
      if (typeof args[3] === 'number') positional.push(args[3]);
      return (write as (...a: unknown[]) => unknown).apply(this, args);
    });
    const head = randomBytes(1000); // an earlier request left the file at an unaligned size
    const first = await d.writer('/u/data', false);
    await first.write(head);
    await first.commit();

    const body = randomBytes(1024 * KiB + 333);
    const w = await d.writer('/u/data', true);
    assert.equal(w.size, head.length);
    for (const piece of pieces(body, 3 * 64 * KiB)) await w.write(piece);
    assert.equal(w.size, head.length + body.length);
    await w.commit();

    const stored = await fs.readFile(nodePath.join(root, 'u', 'data'));
    assert.equal(stored.length, head.length + body.length);
    assert.equal(sha256(stored), sha256(Buffer.concat([head, body])));
    assert.ok(positional.length >= 14, `expected most of 1 MiB in 64 KiB direct writes, saw ${positional.length}`);
    for (const at of positional) assert.equal(at % DIRECT_ALIGNMENT, 0, `direct write at unaligned offset ${at}`);
  });

  it('writes with smaller buffers while many writers share the pool, and with whole ones again once they left', async (t) => {
    const { d, root } = await setup(t, 1024 * KiB);
    const pool = alignedPool(1024 * KiB);
    const proto = await fileHandlePrototype(root);
    const lengths: number[] = [];
    const write = proto.write;
    t.mock.method(proto, 'write', function (this: FileHandle, ...args: unknown[]) {
      if (typeof args[3] === 'number' && typeof args[2] === 'number') lengths.push(args[2]);
      return (write as (...a: unknown[]) => unknown).apply(this, args);
    });
    const parts = [randomBytes(3 * 1024 * KiB), randomBytes(3 * 1024 * KiB), randomBytes(3 * 1024 * KiB)];
    const w = await d.writer('/u/data', false);
    await w.write(parts[0] as Buffer);
    const others = 127; // 128 writers share 16 MiB: the least size, 128 KiB
    for (let i = 0; i < others; i++) pool.enter();
    try {
      await w.write(parts[1] as Buffer);
    } finally {
      for (let i = 0; i < others; i++) pool.leave();
    }
    await w.write(parts[2] as Buffer);
    await w.commit();
    assert.equal(pool.lentOut, 0, 'the writer returned every buffer, of both sizes');
    assert.equal(sha256(await fs.readFile(nodePath.join(root, 'u', 'data'))), sha256(Buffer.concat(parts)));
    assert.ok(lengths.includes(128 * KiB), `expected 128 KiB direct writes among ${lengths.join(' ')}`);
    assert.equal(lengths.at(-1), 1024 * KiB, 'the whole size again once alone');
  });

  it('a close keeps what was written for the next append-open, a cancel removes it', async (t) => {
    const { d, root } = await setup(t);
    const part = randomBytes(200 * KiB + 5);
    const w = await d.writer('/u/data', false);
    await w.write(part);
    await w.close();
    const resumed = await d.writer('/u/data', true);
    assert.equal(resumed.size, part.length);
    await resumed.write(part);
    await resumed.close();
    assert.equal(sha256(await fs.readFile(nodePath.join(root, 'u', 'data'))), sha256(Buffer.concat([part, part])));
    const again = await d.writer('/u/data', true);
    await again.cancel();
    assert.deepEqual(await fs.readdir(root), []);
  });

  it('reports a failed direct write instead of acknowledging the bytes, and cleans up on cancel', async (t) => {
    const { d, root } = await setup(t);
    const proto = await fileHandlePrototype(root);
    const write = proto.write;
    t.mock.method(proto, 'write', function (this: FileHandle, ...args: unknown[]) {
      if (typeof args[3] === 'number') return Promise.reject(Object.assign(new Error('EIO: simulated'), { code: 'EIO' }));
      return (write as (...a: unknown[]) => unknown).apply(this, args);
    });
    const w = await d.writer('/u/data', false);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) writes.push(w.write(Buffer.alloc(64 * KiB, i)));
    const settled = await Promise.allSettled(writes);
    const commit = w.commit();
    await assert.rejects(commit, /EIO/);
    assert.ok(settled.some((s) => s.status === 'rejected'), 'a write after the failed one fails');
    await w.cancel();
    assert.deepEqual(await fs.readdir(root), []);
  });
});

describe('AlignedPool', { skip: SKIP }, () => {
  it('lends buffers of the whole size to few writers, halved as more share the budget, never below the least', () => {
    const pool = new AlignedPool(64 * KiB, 128 * KiB, 128 * KiB, 16 * KiB);
    assert.equal(pool.bufferSize(), 64 * KiB, 'nobody yet: a newcomer gets the whole size');
    const sizes: number[] = [];
    let writers = 0;
    for (const target of [1, 2, 4, 8, 16, 32]) {
      for (; writers < target; writers++) pool.enter();
      sizes.push(pool.bufferSize());
    }
    // 1, 2, 4, 8, 16, 32 writers: a share of 128 KiB each, at least 16 KiB
    assert.deepEqual(sizes, [64 * KiB, 64 * KiB, 32 * KiB, 16 * KiB, 16 * KiB, 16 * KiB]);
    for (let i = 0; i < 32; i++) pool.leave();
    assert.equal(pool.bufferSize(), 64 * KiB, 'back to the whole size once they left');
    pool.leave();
    assert.equal(pool.bufferSize(), 64 * KiB, 'leaving more than entered does not go negative');
  });

  it('always lends a first buffer, second ones only within its budget, and reuses returned ones up to maxIdle bytes', () => {
    const pool = new AlignedPool(DIRECT_ALIGNMENT, 2 * DIRECT_ALIGNMENT, DIRECT_ALIGNMENT);
    pool.enter();
    const a = pool.acquire();
    assert.equal(a.length, DIRECT_ALIGNMENT);
    const b = pool.tryAcquire();
    assert.ok(b !== undefined);
    assert.equal(pool.tryAcquire(), undefined, 'budget of 2 buffers spent');
    const c = pool.acquire(); // a writer's first buffer is never refused
    assert.equal(pool.lentOut, 3);
    pool.release(b);
    pool.release(c); // beyond maxIdle: dropped
    assert.equal(pool.acquire(), b, 'an idle buffer is reused');
    pool.release(a);
    pool.leave();
  });
});
