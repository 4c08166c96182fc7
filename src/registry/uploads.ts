/**
 * Blob upload sessions: monolithic, chunked and resumable. The session is a row in the meta store;
 * its bytes are appended to a file in storage and made durable at the end of every request, hashed
 * while they stream in (upload-hash.ts: in memory on a single node, where a session resumed by
 * another process is re-hashed from storage; with an UploadStateStore the hash state is saved with
 * every chunk, so any node continues it), and moved into the content-addressed blob store only
 * once the client's digest is verified.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { MetaStore, BlobRecord, UploadSession } from '../meta/store.ts';
import type { UploadStateStore } from '../meta/upload-state.ts';
import { PathNotFoundError, pathExists, type OpenFile, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath, uploadDataPath, UPLOADS_ROOT } from '../storage/paths.ts';
import { withBlobWrite } from './blob-writes.ts';
import { writeStream } from '../storage/write-stream.ts';
import { readAtMost } from './body.ts';
import { digestOf, digestOfStream } from './digest.ts';
import { LocalUploadHashes, SharedUploadHashes, type HeldUpload, type UploadHashes } from './upload-hash.ts';
import { DigestInvalidError, SizeInvalidError, UploadInvalidError, UploadRangeError, UploadUnknownError } from './errors.ts';
import { parseDigest } from './reference.ts';
import type { RegistryPolicy } from './policy.ts';
import { JOURNAL_MAX_BLOB, type BlobJournal } from './blob-journal.ts';

/** The last chunk of an upload, sent with the request that finishes it. */
export interface FinalChunk {
  body: Readable;
  range?: ChunkRange;
  /** Its Content-Length, when the client declared one. */
  length?: number;
}

export interface UploadStatus extends UploadSession {
  /** Bytes received so far. */
  size: number;
}

/** Where a chunk claims to go: `start` must be the current size. */
export interface ChunkRange {
  start: number;
  /** Inclusive end, when the client said it. */
  end?: number;
}

export interface AppendOptions {
  /**
   * Called once every byte of the request is written, before they are made durable: with the
   * sha256 digest of the whole upload so far when this process hashed all of it, else undefined.
   * Throwing aborts the request (its bytes are not committed). A pull-through cache uses it to
   * release a verified blob to its clients without waiting for the disk.
   */
  beforeCommit?: (sha256: string | undefined, size: number) => void | Promise<void>;
  /** Nothing made durable until the commit at the end (WriterOptions.deferSync). */
  deferSync?: boolean;
}

export interface UploadServiceOptions {
  /**
   * The upload state the nodes of a cluster share: each chunk's hash state is saved there, so a
   * session's requests may reach any node and none re-reads the bytes. Without it (one node) the
   * hash stays in memory, with node:crypto.
   */
  state?: UploadStateStore;
  /** How long a node's hold on a session lasts without renewal (ms; SharedUploadHashesOptions.leaseMs). */
  leaseMs?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadService {
  /** The sha256 state of sessions, and (shared) which node's request holds each. */
  private readonly hashes: UploadHashes;
  /** Sessions with a request in progress in this process: one writer at a time. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly meta: MetaStore,
    private readonly policy: RegistryPolicy,
    private readonly journal: BlobJournal,
    opts: UploadServiceOptions = {},
  ) {
    this.hashes = opts.state === undefined ? new LocalUploadHashes() : new SharedUploadHashes(opts.state, { leaseMs: opts.leaseMs });
  }

  async start(repo: string): Promise<UploadStatus> {
    this.policy.assertWritable();
    const session: UploadSession = { id: randomUUID(), repo, startedAt: Date.now() };
    await this.meta.createUpload(session);
    return { ...session, size: 0 };
  }

  async status(repo: string, id: string): Promise<UploadStatus> {
    const session = await this.session(repo, id);
    return { ...session, size: await this.sizeOf(id) };
  }

  /** Append a request body. Out-of-order chunks (start != current size) are UploadRangeError. */
  async append(repo: string, id: string, body: Readable, range?: ChunkRange, opts: AppendOptions = {}): Promise<UploadStatus> {
    const session = await this.session(repo, id);
    return this.exclusive(id, async (held) => ({ ...session, size: await this.write(held, id, body, range, opts) }));
  }

  /**
   * Finish an upload: append the final chunk (if any), verify the digest, commit the blob and link
   * it to the repository. On a digest mismatch the session is discarded and nothing is stored.
   * A whole small blob in one request (the common POST+PUT and monolithic pushes of configs and
   * small layers) goes through the blob journal: one disk flush instead of three.
   */
  async finish(repo: string, id: string, digest: string | undefined, final?: FinalChunk): Promise<BlobRecord> {
    await this.session(repo, id);
    if (digest === undefined) throw new DigestInvalidError('digest parameter missing');
    const parsed = parseDigest(digest);
    return this.exclusive(id, async (held) => {
      if (final !== undefined && (await this.isSmallWhole(id, final))) return this.finishSmall(repo, id, digest, final.body);
      const size = final === undefined ? await this.flushed(id) : await this.write(held, id, final.body, final.range, {}, false);
      await this.verify(id, digest, await this.computedDigest(held, id, parsed.algorithm, size));
      await this.admit(repo, id, { digest, size });
      const target = blobDataPath(parsed.algorithm, parsed.hex);
      const data = uploadDataPath(id);
      // Always put the verified bytes in place, even over an existing file: what is there may be
      // a copy a power cut tore (written without a flush and never linked). rename is atomic.
      const blob = { digest, size };
      await withBlobWrite(this.meta, digest, async (writeToken) => {
        if (size === 0 && !(await pathExists(this.driver, data))) await this.driver.putContent(target, Buffer.alloc(0));
        else await this.driver.move(data, target);
        await this.meta.linkBlob(repo, blob, { completedUpload: id, writeToken });
      });
      await this.hashes.forget(id);
      return blob;
    });
  }

  /** Size of an upload finished without a final chunk, its bytes made durable first (an aborted PATCH may have left some unflushed). */
  private async flushed(id: string): Promise<number> {
    await this.driver.flush([uploadDataPath(id)]);
    return this.sizeOf(id);
  }

  /** The final chunk is the whole blob, declared small, and nothing was received before it. */
  private async isSmallWhole(id: string, final: FinalChunk): Promise<boolean> {
    if (final.length === undefined || final.length > JOURNAL_MAX_BLOB) return false;
    if (final.range !== undefined && final.range.start !== 0) return false;
    return !(await pathExists(this.driver, uploadDataPath(id)));
  }

  private async finishSmall(repo: string, id: string, digest: string, body: Readable): Promise<BlobRecord> {
    const data = await readAtMost(body, JOURNAL_MAX_BLOB);
    if (data === undefined) throw new SizeInvalidError('body larger than its Content-Length');
    await this.verify(id, digest, digestOf(data, parseDigest(digest).algorithm));
    const blob = { digest, size: data.length };
    await this.admit(repo, id, blob);
    await this.journal.commit(repo, blob, data, id);
    await this.hashes.forget(id);
    return blob;
  }

  /** The policy's word before a verified blob is linked (a quota): refused, the session is discarded. */
  private async admit(repo: string, id: string, blob: BlobRecord): Promise<void> {
    try {
      await this.policy.checkBlobLink(repo, blob);
    } catch (err) {
      await this.discard(id);
      throw err;
    }
  }

  /** Discard the session and throw when the content's digest is not the one the client named. */
  private async verify(id: string, expected: string, actual: string): Promise<void> {
    if (actual === expected) return;
    await this.discard(id);
    throw new DigestInvalidError('provided digest did not match uploaded content', { expected, actual });
  }

  async cancel(repo: string, id: string): Promise<void> {
    await this.session(repo, id);
    await this.exclusive(id, () => this.discard(id));
  }

  /**
   * The session's bytes as an open local file (undefined when storage keeps no local files), for
   * whoever verified them to read them while the upload is being finished: a pull-through cache
   * serves a verified blob from it during the commit. The file stays readable once opened, even
   * moved into place or removed; PathNotFoundError once it is gone.
   */
  async openData(id: string): Promise<OpenFile | undefined> {
    if (!UUID_RE.test(id)) throw new UploadUnknownError(id);
    return this.driver.openFile(uploadDataPath(id));
  }

  /**
   * Remove sessions started before `olderThan` (ms since epoch), and session files that no
   * session owns (left by a crash) as old. Returns the ids removed.
   */
  async purge(olderThan: number, dryRun = false): Promise<string[]> {
    const removed: string[] = [];
    for (const session of await this.meta.listUploads(olderThan)) {
      if (this.busy.has(session.id)) continue;
      if (dryRun) removed.push(session.id);
      else if (await this.discardIdle(session.id)) removed.push(session.id);
    }
    let files: string[];
    try {
      files = await this.driver.list(UPLOADS_ROOT);
    } catch (e) {
      if (e instanceof PathNotFoundError) return removed;
      throw e;
    }
    for (const file of files) {
      const id = file.slice(UPLOADS_ROOT.length + 1);
      if (this.busy.has(id) || removed.includes(id) || (await this.meta.getUpload(id)) !== undefined) continue;
      if ((await this.driver.stat(file)).modTime.getTime() >= olderThan) continue;
      removed.push(id);
      if (!dryRun) await this.removeData(id);
    }
    return removed;
  }

  /**
   * Append a request body under `held`. The bytes are committed only while the hold is ours, and
   * the hash (shared: saved with the new size, unless `persist` is false because the caller
   * finishes the upload right away) is kept only once they are durable, before the caller answers.
   */
  private async write(held: HeldUpload, id: string, body: Readable, range?: ChunkRange, opts: AppendOptions = {}, persist = true): Promise<number> {
    const path = uploadDataPath(id);
    let created = false;
    const writerOpts = { deferSync: opts.deferSync };
    const writer = await this.driver.writer(path, true, writerOpts).catch((e: unknown) => {
      if (!(e instanceof PathNotFoundError)) throw e;
      created = true;
      return this.driver.writer(path, false, writerOpts);
    });
    const start = writer.size;
    if (range !== undefined && range.start !== start) {
      await writer.close();
      body.resume();
      throw new UploadRangeError(start, `chunk starts at ${range.start} but the upload has ${start} bytes`);
    }
    // Hash while receiving when the hash of every earlier byte is known.
    const hasher = await held.resume(start);
    const fail = async (e: unknown): Promise<never> => {
      held.drop();
      await writer.close();
      throw e;
    };
    try {
      await writeStream(writer, held.guard(body), hasher !== undefined ? { onChunk: (buf) => hasher.update(buf) } : {});
    } catch (e) {
      return fail(e);
    }
    const received = writer.size - start;
    if (range?.end !== undefined && range.end - range.start + 1 !== received) {
      return fail(new SizeInvalidError(`Content-Range declares ${range.end - range.start + 1} bytes but ${received} arrived`));
    }
    try {
      if (opts.beforeCommit) await opts.beforeCommit(await hasher?.peek(), writer.size);
      await held.confirm();
    } catch (e) {
      return fail(e);
    }
    try {
      await writer.commit();
    } catch (e) {
      held.drop();
      throw e;
    }
    // The session row was committed without a flush; before its first chunk is acknowledged it
    // must be durable too, or a power cut would orphan acknowledged bytes.
    if (created) await this.meta.persistUpload(id);
    await held.keep(hasher, writer.size, persist);
    return writer.size;
  }

  private async computedDigest(held: HeldUpload, id: string, algorithm: 'sha256' | 'sha512', size: number): Promise<string> {
    if (size === 0) return digestOf(Buffer.alloc(0), algorithm);
    const known = algorithm === 'sha256' ? await held.digest(size) : undefined;
    return known ?? digestOfStream(await this.driver.reader(uploadDataPath(id)), algorithm);
  }

  /** Discard a session no request holds, on any node; false when one does or it is gone meanwhile. */
  private async discardIdle(id: string): Promise<boolean> {
    try {
      await this.exclusive(id, () => this.discard(id));
      return true;
    } catch (e) {
      if (e instanceof UploadRangeError || e instanceof UploadUnknownError) return false;
      throw e;
    }
  }

  private async discard(id: string): Promise<void> {
    await this.hashes.forget(id);
    await this.meta.deleteUpload(id);
    await this.removeData(id);
  }

  private async removeData(id: string): Promise<void> {
    try {
      await this.driver.delete(uploadDataPath(id));
    } catch (e) {
      if (!(e instanceof PathNotFoundError)) throw e;
    }
  }

  private async session(repo: string, id: string): Promise<UploadSession> {
    if (!UUID_RE.test(id)) throw new UploadUnknownError(id);
    const session = await this.meta.getUpload(id);
    if (session === undefined || session.repo !== repo) throw new UploadUnknownError(id);
    return session;
  }

  /** Bytes received; a session whose first byte has not arrived has no file yet. */
  private async sizeOf(id: string): Promise<number> {
    try {
      return (await this.driver.stat(uploadDataPath(id))).size;
    } catch (e) {
      if (e instanceof PathNotFoundError) return 0;
      throw e;
    }
  }

  /** Run fn holding the session: in this process (busy), and across nodes when the hash is shared. */
  private async exclusive<T>(id: string, fn: (held: HeldUpload) => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new UploadInvalidError('another request is writing to this upload', { uuid: id });
    this.busy.add(id);
    try {
      const held = await this.hashes.hold(id);
      try {
        return await fn(held);
      } finally {
        await held.release();
      }
    } finally {
      this.busy.delete(id);
    }
  }
}
