/**
 * Durable commits on the SQLite meta store without blocking the event loop, shared by concurrent
 * writers. With synchronous=FULL, better-sqlite3 (synchronous) fsyncs the WAL inside every commit
 * on the main thread: each small push held the whole server for a disk flush, one push at a time.
 * Instead, a durable transaction commits with synchronous=NORMAL (its frames are in the WAL, in the
 * OS cache: a process kill loses nothing) and then waits for a group fdatasync of the WAL file on
 * the thread pool (GroupCommit: concurrent commits share one). The WAL is append-only and its frames
 * are checksummed in sequence, so once the file is flushed every commit before the flush survives
 * a power cut, and none after one that does not. SQLite keeps the same WAL file while the
 * connection is open (it is removed only when the last connection closes).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GroupCommit } from '../group-commit.ts';

export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  private readonly group: GroupCommit;
  private closed = false;

  /** `flush` replaces the fdatasync of the WAL (tests observe or hold it). */
  constructor(
    private readonly dbFile: string,
    flush?: () => Promise<void>,
  ) {
    this.group = new GroupCommit(flush ?? (() => this.fdatasync()));
  }

  /** Resolves once every transaction committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('meta store closed'));
    return this.group.sync();
  }

  /** WAL flushes so far. */
  get flushes(): number {
    return this.group.flushes;
  }

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }

  private async fdatasync(): Promise<void> {
    this.handle ??= open(`${this.dbFile}-wal`, 'r');
    try {
      await (await this.handle).datasync();
    } catch (err) {
      // opened too early or closed under us: the next flush opens it again
      const stale = this.handle;
      this.handle = undefined;
      await (await stale.catch(() => undefined))?.close().catch(() => undefined);
      throw err;
    }
  }
}
