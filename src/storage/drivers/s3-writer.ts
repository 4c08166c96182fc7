/**
 * S3Writer: the S3 driver's resumable FileWriter, a streamed multipart upload.
 *
 * Bytes are buffered up to one part (`partSize`, at least 5 MiB) and each full part is uploaded
 * before the next write proceeds, so memory is one part per writer whatever the blob's size.
 * close() and commit() both finish the object at its key (CompleteMultipartUpload, or one
 * PutObject when it never filled a part): S3 has no "written but not durable", and the closed
 * content stays readable, as the interface asks.
 *
 * Append-open resumes from the object itself, with no state kept elsewhere: the first write
 * after it starts a new multipart upload whose first parts are server-side copies of the object
 * (UploadPartCopy), or, when the object is below S3's 5 MiB part minimum, reads it back into the
 * buffer. An append-open followed by close() without writes changes nothing. A writer that
 * dies between parts (a crash) leaves an incomplete multipart upload: the upload purger aborts it
 * once older than its age (S3Driver.purgeIncomplete), as would a bucket lifecycle rule
 * (AbortIncompleteMultipartUpload); the object at the key keeps its last closed state.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { FileWriter } from '../driver.ts';
import { StorageError } from '../driver.ts';
import { MIN_PART, type WriteParams } from './s3-client.ts';
import { copyIntoUpload } from './s3-copy.ts';

export interface S3WriterTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  params: WriteParams;
  partSize: number;
  copyPartSize: number;
  /** Remove the object at the key, if any (cancel). */
  remove: () => Promise<void>;
}

type WriterState = 'open' | 'closed' | 'committed' | 'cancelled';

export class S3Writer implements FileWriter {
  private state: WriterState = 'open';
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private uploadId: string | undefined;
  private parts: CompletedPart[] = [];
  private written: number;
  /** Bytes of the existing object not yet taken into this writer's upload (append-open). */
  private base: number;
  /** Whether close/commit must (re)write the object: a fresh writer, or anything written. */
  private dirty: boolean;
  /** Writes and finishes run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  /** existingSize: the object's size for an append-open, undefined for a fresh (truncating) writer. */
  constructor(
    private readonly t: S3WriterTarget,
    existingSize: number | undefined,
  ) {
    this.written = existingSize ?? 0;
    this.base = existingSize ?? 0;
    this.dirty = existingSize === undefined;
  }

  get size(): number {
    return this.written;
  }

  write(chunk: Buffer): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new StorageError(`writer already ${this.state}`));
    return this.run(async () => {
      if (chunk.length === 0) return;
      await this.takeBase();
      this.dirty = true;
      this.pending.push(Buffer.from(chunk));
      this.pendingBytes += chunk.length;
      this.written += chunk.length;
      if (this.pendingBytes >= this.t.partSize) await this.uploadPending();
    });
  }

  async commit(): Promise<void> {
    await this.finish('committed');
  }

  async close(): Promise<void> {
    await this.finish('closed');
  }

  async cancel(): Promise<void> {
    if (this.state === 'committed' || this.state === 'cancelled') throw new StorageError(`writer already ${this.state}`);
    this.state = 'cancelled';
    await this.queue.catch(() => undefined);
    this.pending = [];
    await this.abort();
    await this.t.remove();
  }

  private check(): void {
    if (this.state !== 'open') throw new StorageError(`writer already ${this.state}`);
  }

  private run(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.failure) throw this.failure.error;
      try {
        await op();
      } catch (error) {
        this.failure = { error };
        throw error;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async finish(next: 'closed' | 'committed'): Promise<void> {
    this.check();
    this.state = next;
    await this.run(async () => {
      if (!this.dirty) return;
      try {
        if (this.uploadId === undefined) {
          const body = Buffer.concat(this.pending, this.pendingBytes);
          await this.t.s3.send(new PutObjectCommand({ Bucket: this.t.bucket, Key: this.t.key, Body: body, ContentLength: body.length, ...this.t.params }));
        } else {
          if (this.pendingBytes > 0) await this.uploadPending();
          await this.t.s3.send(
            new CompleteMultipartUploadCommand({ Bucket: this.t.bucket, Key: this.t.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }),
          );
          this.uploadId = undefined;
        }
      } catch (err) {
        await this.abort().catch(() => undefined);
        throw err;
      }
      this.pending = [];
      this.pendingBytes = 0;
      this.parts = [];
    });
  }

  /** Bring the existing object of an append-open into this upload, once, before the first new byte. */
  private async takeBase(): Promise<void> {
    if (this.base === 0) return;
    const size = this.base;
    this.base = 0;
    if (size < MIN_PART) {
      const out = await this.t.s3.send(new GetObjectCommand({ Bucket: this.t.bucket, Key: this.t.key }));
      const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      if (bytes.length !== size) throw new StorageError(`${this.t.key} changed while a writer appended to it`);
      this.pending.unshift(bytes);
      this.pendingBytes += bytes.length;
      return;
    }
    const uploadId = await this.startUpload();
    this.parts = await copyIntoUpload({ s3: this.t.s3, bucket: this.t.bucket, uploadId, key: this.t.key }, this.t.key, size, this.t.copyPartSize);
  }

  private async startUpload(): Promise<string> {
    if (this.uploadId !== undefined) return this.uploadId;
    const created = await this.t.s3.send(new CreateMultipartUploadCommand({ Bucket: this.t.bucket, Key: this.t.key, ...this.t.params }));
    if (created.UploadId === undefined) throw new StorageError('S3 CreateMultipartUpload returned no UploadId');
    this.uploadId = created.UploadId;
    return created.UploadId;
  }

  private async uploadPending(): Promise<void> {
    const uploadId = await this.startUpload();
    const body = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const partNumber = this.parts.length + 1;
    const out = await this.t.s3.send(
      new UploadPartCommand({ Bucket: this.t.bucket, Key: this.t.key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
    );
    if (out.ETag === undefined) throw new StorageError(`S3 UploadPart ${partNumber} of ${this.t.key} returned no ETag`);
    this.parts.push({ PartNumber: partNumber, ETag: out.ETag });
  }

  private async abort(): Promise<void> {
    const uploadId = this.uploadId;
    if (uploadId === undefined) return;
    this.uploadId = undefined;
    this.parts = [];
    await this.t.s3.send(new AbortMultipartUploadCommand({ Bucket: this.t.bucket, Key: this.t.key, UploadId: uploadId }));
  }
}
