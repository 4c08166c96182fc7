/**
 * The blob journal: small blobs made durable with one disk flush instead of three. The bytes go
 * to storage without waiting for the disk, and a copy goes into the meta store in the same
 * transaction that links the blob (one WAL fsync); the push is acknowledged then. A checkpoint a
 * moment later flushes those files (a batch of files and their directories at once) and drops
 * the copies. At start-up, recover() rewrites from the journal any blob whose bytes a crash lost,
 * before anything is served. Large blobs do not go through here: they stream to an upload file.
 */
import type { Logger } from 'pino';
import type { BlobRecord, MetaStore } from '../meta/store.ts';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath } from '../storage/paths.ts';
import { withBlobWrite } from './blob-writes.ts';
import { digestOf } from './digest.ts';
import { parseDigest } from './reference.ts';

/** Blobs up to this size take the journal path (a docker config, a small layer, a signature). */
export const JOURNAL_MAX_BLOB = 256 * 1024;

export interface BlobJournalOptions {
  /** Delay between a journaled commit and the checkpoint that flushes it (ms). */
  checkpointDelayMs?: number;
  /** Journal entries flushed per batch. */
  batch?: number;
}

function pathOf(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return blobDataPath(algorithm, hex);
}

export class BlobJournal {
  private timer: NodeJS.Timeout | undefined;
  /**
   * Bumped before each write of a digest's file: a checkpoint drops an entry only if no write of
   * that digest began after it read the entry, since a later write may have put a new, unflushed
   * file in place of the one it flushed.
   */
  private readonly generations = new Map<string, number>();
  private generation = 0;
  private running: Promise<void> | undefined;
  private readonly delay: number;
  private readonly batch: number;

  constructor(
    private readonly driver: StorageDriver,
    private readonly meta: MetaStore,
    private readonly log: Logger | undefined,
    opts: BlobJournalOptions = {},
  ) {
    this.delay = opts.checkpointDelayMs ?? 100;
    this.batch = opts.batch ?? 512;
  }

  /** Store a verified small blob and link it, durable once this resolves. */
  async commit(repo: string, blob: BlobRecord, data: Buffer, completedUpload?: string): Promise<void> {
    await withBlobWrite(this.meta, blob.digest, async (writeToken) => {
      this.generations.set(blob.digest, ++this.generation);
      await this.driver.putContent(pathOf(blob.digest), data, { durable: false });
      await this.meta.linkBlob(repo, blob, { completedUpload, journal: data, writeToken });
    });
    this.schedule();
  }

  /** Flush every journaled blob's file and drop it from the journal. Returns how many. */
  async checkpoint(): Promise<number> {
    let total = 0;
    for (;;) {
      const entries = await this.meta.journaledBlobs(this.batch);
      if (entries.length === 0) return total;
      const seen = new Map(entries.map((e) => [e.digest, this.generations.get(e.digest)]));
      const missing = new Set(await this.driver.flush(entries.map((e) => pathOf(e.digest))));
      // A file that vanished is written again from its journaled copy before the copy goes, unless
      // garbage collection took the blob (it deletes the journal entry, then the file).
      for (const e of entries) if (missing.has(pathOf(e.digest))) await this.restore(e.digest, e.data);
      const done = entries.map((e) => e.digest).filter((d) => this.generations.get(d) === seen.get(d));
      await this.meta.clearJournal(done);
      for (const d of done) this.generations.delete(d);
      total += done.length;
      if (done.length < entries.length) return total; // rewritten meanwhile: the next checkpoint takes them
    }
  }

  /** Write a journaled blob's file again, as an announced write, if the blob is still recorded. */
  private async restore(digest: string, data: Buffer): Promise<void> {
    await withBlobWrite(this.meta, digest, async (token) => {
      if ((await this.meta.getBlob(digest)) !== undefined) await this.driver.putContent(pathOf(digest), data);
      await this.meta.endBlobWrite(token);
    });
  }

  /** Before serving: put back, durably, every journaled blob whose bytes storage does not hold intact. */
  async recover(): Promise<number> {
    let repaired = 0;
    for (const entry of await this.meta.journaledBlobs(Number.MAX_SAFE_INTEGER)) {
      const path = pathOf(entry.digest);
      const { algorithm } = parseDigest(entry.digest);
      const stored = await this.driver.getContent(path).catch((e: unknown) => {
        if (e instanceof PathNotFoundError) return undefined;
        throw e;
      });
      if (stored !== undefined && digestOf(stored, algorithm) === entry.digest) continue;
      await this.driver.putContent(path, entry.data);
      repaired++;
    }
    await this.checkpoint();
    if (repaired > 0) this.log?.warn({ repaired }, 'blob journal: restored blobs lost by a crash');
    return repaired;
  }

  /** Stop the timer and flush what is pending. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.checkpoint();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = (this.running ?? Promise.resolve())
        .then(() => this.checkpoint())
        .then(
          () => undefined,
          (err: unknown) => {
            this.log?.error({ err }, 'blob journal checkpoint failed; will retry');
            this.schedule();
          },
        );
    }, this.delay);
    this.timer.unref();
  }
}
