/**
 * Blob upload sessions: monolithic, chunked and resumable. Bytes are appended to a session file
 * in storage and made durable at the end of every request, hashed while they stream in (the hash
 * state is kept in memory; a session resumed by another process is re-hashed from storage), and
 * moved into the content-addressed blob store only once the client's digest is verified.
 */
import { randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { MetaStore, BlobRecord } from '../meta/store.ts';
import { PathNotFoundError, pathExists, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath, uploadDataPath, uploadDir, uploadInfoPath, UPLOADS_ROOT } from '../storage/paths.ts';
import { digestOfStream, newHash } from './digest.ts';
import { DigestInvalidError, SizeInvalidError, UploadInvalidError, UploadRangeError, UploadUnknownError } from './errors.ts';
import { parseDigest } from './reference.ts';
import type { RegistryPolicy } from './policy.ts';

export interface UploadStatus {
  id: string;
  repo: string;
  /** Bytes received so far. */
  size: number;
  startedAt: number;
}

interface UploadInfo {
  repo: string;
  startedAt: number;
}

/** Where a chunk claims to go: `start` must be the current size. */
export interface ChunkRange {
  start: number;
  /** Inclusive end, when the client said it. */
  end?: number;
}

interface HashState {
  hash: Hash;
  offset: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadService {
  /** sha256 state of sessions whose bytes all went through this process. */
  private readonly hashes = new Map<string, HashState>();
  /** Sessions with a request in progress: one writer at a time. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly meta: MetaStore,
    private readonly policy: RegistryPolicy,
  ) {}

  async start(repo: string): Promise<UploadStatus> {
    this.policy.assertWritable();
    const id = randomUUID();
    const info: UploadInfo = { repo, startedAt: Date.now() };
    await this.driver.putContent(uploadInfoPath(id), Buffer.from(JSON.stringify(info)));
    const w = await this.driver.writer(uploadDataPath(id), false);
    await w.commit();
    this.hashes.set(id, { hash: newHash('sha256'), offset: 0 });
    return { id, repo, size: 0, startedAt: info.startedAt };
  }

  async status(repo: string, id: string): Promise<UploadStatus> {
    const info = await this.info(repo, id);
    const size = await this.sizeOf(id);
    return { id, repo, size, startedAt: info.startedAt };
  }

  /** Append a request body. Out-of-order chunks (start != current size) are UploadRangeError. */
  async append(repo: string, id: string, body: Readable, range?: ChunkRange): Promise<UploadStatus> {
    const info = await this.info(repo, id);
    return this.exclusive(id, async () => {
      const size = await this.write(id, body, range);
      return { id, repo, size, startedAt: info.startedAt };
    });
  }

  /**
   * Finish an upload: append the final body (if any), verify the digest, commit the blob and link
   * it to the repository. On a digest mismatch the session is discarded and nothing is stored.
   */
  async finish(repo: string, id: string, digest: string | undefined, body?: Readable, range?: ChunkRange): Promise<BlobRecord> {
    await this.info(repo, id);
    if (digest === undefined) throw new DigestInvalidError('digest parameter missing');
    const parsed = parseDigest(digest);
    return this.exclusive(id, async () => {
      const size = body === undefined ? await this.sizeOf(id) : await this.write(id, body, range);
      const actual = await this.computedDigest(id, parsed.algorithm, size);
      if (actual !== digest) {
        await this.discard(id);
        throw new DigestInvalidError('provided digest did not match uploaded content', { expected: digest, actual });
      }
      const target = blobDataPath(parsed.algorithm, parsed.hex);
      if (await pathExists(this.driver, target)) {
        await this.discard(id);
      } else {
        await this.driver.move(uploadDataPath(id), target);
        await this.discard(id);
      }
      const blob = { digest, size };
      await this.meta.linkBlob(repo, blob);
      return blob;
    });
  }

  async cancel(repo: string, id: string): Promise<void> {
    await this.info(repo, id);
    await this.exclusive(id, () => this.discard(id));
  }

  /** Remove sessions started before `olderThan` (ms since epoch). Returns the ids removed. */
  async purge(olderThan: number, dryRun = false): Promise<string[]> {
    let dirs: string[];
    try {
      dirs = await this.driver.list(UPLOADS_ROOT);
    } catch (e) {
      if (e instanceof PathNotFoundError) return [];
      throw e;
    }
    const removed: string[] = [];
    for (const dir of dirs) {
      const id = dir.slice(UPLOADS_ROOT.length + 1);
      if (this.busy.has(id)) continue;
      let startedAt: number;
      try {
        startedAt = (JSON.parse((await this.driver.getContent(uploadInfoPath(id))).toString()) as UploadInfo).startedAt;
      } catch {
        startedAt = (await this.driver.stat(dir)).modTime.getTime();
      }
      if (startedAt >= olderThan) continue;
      removed.push(id);
      if (!dryRun) await this.discard(id);
    }
    return removed;
  }

  private async write(id: string, body: Readable, range?: ChunkRange): Promise<number> {
    const writer = await this.driver.writer(uploadDataPath(id), true);
    const start = writer.size;
    if (range !== undefined && range.start !== start) {
      await writer.close();
      body.resume();
      throw new UploadRangeError(start, `chunk starts at ${range.start} but the upload has ${start} bytes`);
    }
    const state = this.hashes.get(id);
    const hashing = state !== undefined && state.offset === start;
    if (!hashing) this.hashes.delete(id);
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        if (hashing) state.hash.update(buf);
        await writer.write(buf);
      }
    } catch (e) {
      await writer.close();
      this.hashes.delete(id);
      throw e;
    }
    const received = writer.size - start;
    if (range?.end !== undefined && range.end - range.start + 1 !== received) {
      await writer.close();
      this.hashes.delete(id);
      throw new SizeInvalidError(`Content-Range declares ${range.end - range.start + 1} bytes but ${received} arrived`);
    }
    await writer.commit();
    if (hashing) state.offset = writer.size;
    return writer.size;
  }

  private async computedDigest(id: string, algorithm: 'sha256' | 'sha512', size: number): Promise<string> {
    const state = this.hashes.get(id);
    if (algorithm === 'sha256' && state !== undefined && state.offset === size) {
      this.hashes.delete(id);
      return `sha256:${state.hash.digest('hex')}`;
    }
    return digestOfStream(await this.driver.reader(uploadDataPath(id)), algorithm);
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    try {
      await this.driver.delete(uploadDir(id));
    } catch (e) {
      if (!(e instanceof PathNotFoundError)) throw e;
    }
  }

  private async info(repo: string, id: string): Promise<UploadInfo> {
    if (!UUID_RE.test(id)) throw new UploadUnknownError(id);
    let info: UploadInfo;
    try {
      info = JSON.parse((await this.driver.getContent(uploadInfoPath(id))).toString()) as UploadInfo;
    } catch (e) {
      if (e instanceof PathNotFoundError) throw new UploadUnknownError(id);
      throw e;
    }
    if (info.repo !== repo) throw new UploadUnknownError(id);
    return info;
  }

  private async sizeOf(id: string): Promise<number> {
    try {
      return (await this.driver.stat(uploadDataPath(id))).size;
    } catch (e) {
      if (e instanceof PathNotFoundError) throw new UploadUnknownError(id);
      throw e;
    }
  }

  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new UploadInvalidError('another request is writing to this upload', { uuid: id });
    this.busy.add(id);
    try {
      return await fn();
    } finally {
      this.busy.delete(id);
    }
  }
}
