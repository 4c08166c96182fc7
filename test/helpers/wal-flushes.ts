/**
 * The SQLite meta store's WAL flush, observed (SqliteMetaStoreOptions.flushWal): each flush records
 * the blobs linked when it began (read through a second connection), waits while the test holds
 * it, then fdatasyncs the WAL as the store would and marks itself done. A test asserts a push is
 * acknowledged only after a done flush that covers it, and counts the flushes.
 */
import fs from 'node:fs/promises';
import Database from 'better-sqlite3';

export interface ObservedFlush {
  covers: Set<string>;
  done: boolean;
}

export class WalFlushes {
  readonly flushes: ObservedFlush[] = [];
  private hold: Promise<void> | undefined;

  constructor(private readonly dbFile: string) {}

  /** The digests linked to any repository, as committed now. */
  linked(): Set<string> {
    const db = new Database(this.dbFile, { readonly: true });
    try {
      return new Set(db.prepare('SELECT digest FROM repository_blobs').pluck().all() as string[]);
    } finally {
      db.close();
    }
  }

  /** Hold every flush that begins from now on until the returned function is called. */
  holdFlushes(): () => void {
    let release!: () => void;
    this.hold = new Promise((r) => (release = r));
    return release;
  }

  /** Resolve once `count` blobs are linked (the pushes committed, waiting for their flush). */
  async untilLinked(count: number): Promise<void> {
    for (let i = 0; this.linked().size < count; i++) {
      if (i > 100_000) throw new Error(`fewer than ${count} blobs were ever linked`);
      await new Promise(setImmediate);
    }
  }

  /** Acknowledged durably: a flush that began after the commit has ended. */
  durable(digest: string): boolean {
    return this.flushes.some((f) => f.done && f.covers.has(digest));
  }

  readonly flushWal = async (): Promise<void> => {
    const flush: ObservedFlush = { covers: this.linked(), done: false };
    this.flushes.push(flush);
    await this.hold;
    const wal = await fs.open(`${this.dbFile}-wal`, 'r');
    try {
      await wal.datasync();
    } finally {
      await wal.close();
    }
    flush.done = true;
  };
}
