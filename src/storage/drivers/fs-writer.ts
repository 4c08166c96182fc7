/** The filesystem driver's resumable writer: coalesced writes, background fdatasync, durable commit. */
import type { FileHandle } from 'node:fs/promises';
import nodePath from 'node:path';
import type { FileWriter } from '../driver.ts';
import { StorageError } from '../driver.ts';
import { syncDirectory } from './fs-util.ts';

export interface WriterTuning {
  /** Bytes coalesced before a write syscall (default 1 MiB). */
  bufferSize: number;
  /** Bytes written between background fdatasyncs (default 32 MiB). */
  syncInterval: number;
}

type WriterState = 'open' | 'finishing' | 'closed' | 'committed' | 'cancelled';

/**
 * An append-only writer on an O_APPEND FileHandle. Small writes are coalesced into one buffer
 * of `bufferSize` bytes per write syscall; every `syncInterval` bytes an fdatasync starts in
 * the background (at most one at a time) so that commit() only has a short tail to sync.
 * Calls run one after another, so `size` is exact: bytes in the file plus bytes buffered.
 */
export class FilesystemWriter implements FileWriter {
  private state: WriterState = 'open';
  private buffer: Buffer | undefined;
  private buffered = 0;
  private written: number;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncFailure: { error: unknown } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private handleOpen = true;

  constructor(
    private readonly handle: FileHandle,
    private readonly full: string,
    initialSize: number,
    private readonly tuning: WriterTuning,
    private readonly discard: () => Promise<void>,
    /** The writer created the file: its directory entry must be made durable once. */
    private entryUnsynced: boolean,
  ) {
    this.written = initialSize;
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
      this.buffer = undefined;
      this.buffered = 0;
      await this.handle.close();
    }
  }

  private async append(chunk: Buffer): Promise<void> {
    if (this.syncFailure) throw this.syncFailure.error;
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
    if (this.buffered > 0) await this.writeOut([this.pending().subarray(0, this.buffered)]);
  }

  /** One writev of `buffers` (finishing a short write), then maybe a background fdatasync. */
  private async writeOut(buffers: Buffer[]): Promise<void> {
    let skip = (await this.handle.writev(buffers)).bytesWritten;
    let total = 0;
    for (const buffer of buffers) {
      total += buffer.length;
      for (let at = Math.min(skip, buffer.length); at < buffer.length; ) {
        at += (await this.handle.write(buffer, at, buffer.length - at)).bytesWritten;
      }
      skip = Math.max(0, skip - buffer.length);
    }
    this.written += total;
    this.buffered = 0;
    this.unsynced += total;
    if (this.unsynced >= this.tuning.syncInterval && this.syncing === undefined) {
      this.unsynced = 0;
      this.syncing = this.handle.datasync().then(
        () => {
          this.syncing = undefined;
        },
        (error: unknown) => {
          this.syncing = undefined;
          this.syncFailure = { error };
        },
      );
    }
  }

  private async settleSync(): Promise<void> {
    await this.syncing;
    if (this.syncFailure) throw this.syncFailure.error;
  }
}
