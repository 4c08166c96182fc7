/** The filesystem driver's resumable writer: coalesced writes, direct I/O, background fdatasync, durable commit. */
import type { FileHandle } from 'node:fs/promises';
import nodePath from 'node:path';
import type { FileWriter } from '../driver.ts';
import { StorageError } from '../driver.ts';
import { DIRECT_ALIGNMENT, type AlignedPool } from './fs-direct.ts';
import { syncDirectory } from './fs-util.ts';

export interface WriterTuning {
  /** Bytes coalesced before a write syscall (default 1 MiB, 2 MiB with direct I/O: then the most, as writers at once share the aligned buffers' budget; see AlignedPool). */
  bufferSize: number;
  /** Bytes written between background fdatasyncs (default 32 MiB). */
  syncInterval: number;
  /** Write with O_DIRECT where the platform and the filesystem allow it (default: yes, see fs-direct.ts). */
  directIO: boolean;
}

/** The O_DIRECT side of a writer: a second handle on the file and the pool its aligned buffers come from. */
export interface DirectWrites {
  handle: FileHandle;
  pool: AlignedPool;
}

type WriterState = 'open' | 'finishing' | 'closed' | 'committed' | 'cancelled';

/**
 * An append-only writer on an O_APPEND FileHandle. Small writes are coalesced into one buffer
 * of `bufferSize` bytes per write syscall; every `syncInterval` bytes an fdatasync starts in
 * the background (at most one at a time) so that commit() only has a short tail to sync.
 * Calls run one after another, so `size` is exact: bytes in the file plus bytes buffered.
 *
 * With `direct`, full buffers are written at their offset through an O_DIRECT handle, one at a
 * time and in order (the file never has a hole), while the next buffer fills: the disk writes
 * while the socket is read and hashed, and no byte is copied into the page cache.
 */
export class FilesystemWriter implements FileWriter {
  private state: WriterState = 'open';
  private buffer: Buffer | undefined;
  private buffered = 0;
  private written: number;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** A failed write in flight or background sync: every later call fails with it. */
  private failure: { error: unknown } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private handleOpen = true;
  /** Direct I/O: the O_DIRECT write in flight, the buffer it frees, the pool buffers this writer holds. */
  private inflight: Promise<void> | undefined;
  private readonly free: Buffer[] = [];
  private lent = 0;
  private readonly direct: FileHandle | undefined;
  private readonly pool: AlignedPool | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly full: string,
    initialSize: number,
    private readonly tuning: WriterTuning,
    private readonly discard: () => Promise<void>,
    /** The writer created the file: its directory entry must be made durable once. */
    private entryUnsynced: boolean,
    direct?: DirectWrites,
  ) {
    this.written = initialSize;
    this.direct = direct?.handle;
    this.pool = direct?.pool;
    this.pool?.enter();
  }

  get size(): number {
    return this.written + this.buffered;
  }

  async write(chunk: Buffer): Promise<void> {
    this.expectOpen();
    return this.serialized(() => this.append(chunk));
  }

  async commit(): Promise<void> {
    this.expectOpen();
    this.state = 'finishing';
    try {
      await this.release(async () => {
        await this.flush();
        await this.settleSync();
        await this.handle.datasync();
      });
      await this.syncEntry();
    } catch (err) {
      this.state = 'closed'; // the bytes stay for a later append-open or cancel
      throw err;
    }
    this.state = 'committed';
  }

  async close(): Promise<void> {
    this.expectOpen();
    this.state = 'closed';
    await this.release(async () => {
      await this.flush();
      await this.settleSync();
    });
    // A later append-open does not know this writer created the file: make its entry durable now,
    // so that a commit through that later writer covers everything.
    await this.syncEntry();
  }

  async cancel(): Promise<void> {
    if (this.state !== 'open' && this.state !== 'closed') throw new StorageError(`writer already ${this.state}`);
    this.state = 'cancelled';
    if (this.handleOpen) await this.release(async () => this.syncing).catch(() => undefined);
    await this.discard();
  }

  /** fsync the directory once for the entry of a file this writer created. */
  private async syncEntry(): Promise<void> {
    if (!this.entryUnsynced) return;
    await syncDirectory(nodePath.dirname(this.full));
    this.entryUnsynced = false;
  }

  private expectOpen(): void {
    if (this.state !== 'open') throw new StorageError(`writer already ${this.state}`);
  }

  /** Queue `task` after every earlier call; once one fails, all later ones fail with it. */
  private serialized(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run;
    return run;
  }

  /** Run `last` after the queued writes, then close the handle whatever happened. */
  private async release(last: () => Promise<void>): Promise<void> {
    try {
      await this.serialized(last);
    } finally {
      this.handleOpen = false;
      await this.inflight; // never rejects: its failure is in this.failure
      this.returnBuffers();
      this.buffered = 0;
      this.pool?.leave();
      await this.direct?.close();
      await this.handle.close();
    }
  }

  /** Give the pool back the buffers this writer holds (a plain buffer is dropped). */
  private returnBuffers(): void {
    if (this.buffer !== undefined) this.free.push(this.buffer);
    this.buffer = undefined;
    for (const buffer of this.free.splice(0)) this.giveBack(buffer);
  }

  private giveBack(buffer: Buffer): void {
    if (this.pool !== undefined && this.lent > 0) {
      this.pool.release(buffer);
      this.lent--;
    }
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure.error;
    if (this.direct !== undefined) return this.appendDirect(this.direct, chunk);
    const capacity = this.tuning.bufferSize;
    if (this.buffered + chunk.length < capacity) {
      chunk.copy(this.pending(), this.buffered);
      this.buffered += chunk.length;
    } else if (chunk.length >= capacity) {
      await this.writeOut(this.buffered > 0 ? [this.pending().subarray(0, this.buffered), chunk] : [chunk]);
    } else {
      const room = capacity - this.buffered;
      chunk.copy(this.pending(), this.buffered, 0, room);
      this.buffered = capacity;
      await this.flush();
      chunk.copy(this.pending(), 0, room);
      this.buffered = chunk.length - room;
    }
  }

  private pending(): Buffer {
    this.buffer ??= Buffer.allocUnsafe(this.tuning.bufferSize);
    return this.buffer;
  }

  private async flush(): Promise<void> {
    if (this.direct !== undefined) {
      if (this.buffered > 0) await this.submit(this.direct);
      await this.settleWrite();
    } else if (this.buffered > 0) {
      await this.writeOut([this.pending().subarray(0, this.buffered)]);
    }
  }

  /** One writev of `buffers` (finishing a short write), then maybe a background fdatasync. */
  private async writeOut(buffers: Buffer[]): Promise<void> {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    await this.appendAll(buffers);
    this.written += total;
    this.buffered = 0;
    this.written_(total);
  }

  /** Write `buffers` at the end of the file through the O_APPEND handle, finishing short writes. */
  private async appendAll(buffers: Buffer[]): Promise<void> {
    let skip = (await this.handle.writev(buffers)).bytesWritten;
    for (const buffer of buffers) {
      for (let at = Math.min(skip, buffer.length); at < buffer.length; ) {
        at += (await this.handle.write(buffer, at, buffer.length - at)).bytesWritten;
      }
      skip = Math.max(0, skip - buffer.length);
    }
  }

  /** `length` more bytes reached the file: every syncInterval bytes, start a background fdatasync. */
  private written_(length: number): void {
    this.unsynced += length;
    if (this.unsynced >= this.tuning.syncInterval && this.syncing === undefined) {
      this.unsynced = 0;
      this.syncing = this.handle.datasync().then(
        () => {
          this.syncing = undefined;
        },
        (error: unknown) => {
          this.syncing = undefined;
          this.failure ??= { error };
        },
      );
    }
  }

  /**
   * Direct I/O: copy into the aligned buffer; a full one is written with O_DIRECT while the next
   * fills. A buffer fills up to the next aligned file offset, so only the first (after an append-open
   * at an unaligned size) and the last may be partial; those go through the page cache.
   */
  private async appendDirect(direct: FileHandle, chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      const buffer = await this.alignedPending();
      const capacity = this.capacity(buffer);
      const n = Math.min(capacity - this.buffered, chunk.length - at);
      chunk.copy(buffer, this.buffered, at, at + n);
      this.buffered += n;
      at += n;
      if (this.buffered === capacity) await this.submit(direct);
    }
  }

  /** Bytes `buffer` takes: up to the next aligned offset, at most its length. */
  private capacity(buffer: Buffer): number {
    const misaligned = this.written % DIRECT_ALIGNMENT;
    return misaligned === 0 ? buffer.length : DIRECT_ALIGNMENT - misaligned;
  }

  /**
   * The buffer to fill: the current one, a free one, a second one from the pool, or the one in
   * flight once written. A free buffer of another size than the pool's share now (more or fewer
   * writers than when it was taken) is exchanged for one of that size.
   */
  private async alignedPending(): Promise<Buffer> {
    if (this.buffer !== undefined) return this.buffer;
    const pool = this.pool;
    if (pool === undefined) throw new StorageError('direct writer without a buffer pool');
    let buffer = this.fitting(pool, this.free.pop());
    if (buffer === undefined && this.inflight !== undefined) {
      buffer = pool.tryAcquire();
      if (buffer !== undefined) this.lent++;
      else {
        await this.settleWrite();
        buffer = this.fitting(pool, this.free.pop());
      }
    }
    if (buffer === undefined) {
      buffer = pool.acquire();
      this.lent++;
    }
    this.buffer = buffer;
    return buffer;
  }

  /** `buffer` if it has the pool's current size, else undefined once it is returned. */
  private fitting(pool: AlignedPool, buffer: Buffer | undefined): Buffer | undefined {
    if (buffer === undefined || buffer.length === pool.bufferSize()) return buffer;
    this.giveBack(buffer);
    return undefined;
  }

  /** Hand the buffered bytes to the file: O_DIRECT in the background when aligned, else through the page cache now. */
  private async submit(direct: FileHandle): Promise<void> {
    const buffer = this.buffer;
    const length = this.buffered;
    if (buffer === undefined || length === 0) return;
    const position = this.written;
    await this.settleWrite(); // one write at a time, in order: the file never has a hole
    this.buffer = undefined;
    this.buffered = 0;
    this.written += length;
    if (position % DIRECT_ALIGNMENT !== 0 || length % DIRECT_ALIGNMENT !== 0) {
      try {
        await this.appendAll([buffer.subarray(0, length)]);
      } finally {
        this.free.push(buffer);
      }
      this.written_(length);
      return;
    }
    this.inflight = this.writeDirect(direct, buffer, length, position).then(
      () => {
        this.free.push(buffer);
        this.written_(length);
      },
      (error: unknown) => {
        this.free.push(buffer);
        this.failure ??= { error };
      },
    );
  }

  private async writeDirect(direct: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
    const done = (await direct.write(buffer, 0, length, position)).bytesWritten;
    // A short direct write ends the file at position + done: finish through the O_APPEND handle.
    if (done < length) await this.appendAll([buffer.subarray(done, length)]);
  }

  /** Wait for the write in flight; throw if it or a background sync failed. */
  private async settleWrite(): Promise<void> {
    const inflight = this.inflight;
    if (inflight !== undefined) {
      await inflight;
      if (this.inflight === inflight) this.inflight = undefined;
    }
    if (this.failure) throw this.failure.error;
  }

  private async settleSync(): Promise<void> {
    await this.syncing;
    if (this.failure) throw this.failure.error;
  }
}
