/**
 * Server-side copies for the S3 driver: a whole object (move) and an object as the first parts of
 * a multipart upload (a writer's append-open). No byte passes through berth.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MAX_COPY, MIN_PART, copySource, type WriteParams } from './s3-client.ts';
import { StorageError } from '../driver.ts';

/** Parallel part copies at a time. */
const COPY_CONCURRENCY = 4;

/**
 * Byte ranges [start, end] (inclusive) of `size` in parts of `partSize`, a short tail merged into
 * the part before it, so every range is at least MIN_PART when followed by more parts.
 */
export function copyRanges(size: number, partSize: number): [number, number][] {
  const step = Math.min(Math.max(partSize, MIN_PART), MAX_COPY - MIN_PART);
  const ranges: [number, number][] = [];
  for (let start = 0; start < size; start += step) ranges.push([start, Math.min(start + step, size) - 1]);
  const last = ranges[ranges.length - 1];
  const before = ranges[ranges.length - 2];
  if (last !== undefined && before !== undefined && last[1] - last[0] + 1 < MIN_PART) {
    ranges.pop();
    before[1] = last[1];
  }
  return ranges;
}

export interface CopyTarget {
  s3: S3Client;
  bucket: string;
  uploadId: string;
  key: string;
}

/** Copy `size` bytes of `sourceKey` into the upload as parts 1..n. */
export async function copyIntoUpload(target: CopyTarget, sourceKey: string, size: number, partSize: number): Promise<CompletedPart[]> {
  const ranges = copyRanges(size, partSize);
  const parts: CompletedPart[] = new Array<CompletedPart>(ranges.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < ranges.length; i = next++) {
      const [start, end] = ranges[i] ?? [0, -1];
      const out = await target.s3.send(
        new UploadPartCopyCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: target.uploadId,
          PartNumber: i + 1,
          CopySource: copySource(target.bucket, sourceKey),
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      const etag = out.CopyPartResult?.ETag;
      if (etag === undefined) throw new StorageError(`S3 UploadPartCopy of ${sourceKey} returned no ETag`);
      parts[i] = { PartNumber: i + 1, ETag: etag };
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, ranges.length) }, worker));
  return parts;
}

export interface ObjectCopy {
  s3: S3Client;
  bucket: string;
  params: WriteParams;
  partSize: number;
  threshold: number;
}

/** Copy an object of `size` bytes to another key: CopyObject, or part by part from `threshold` on. */
export async function copyObject(c: ObjectCopy, from: string, to: string, size: number): Promise<void> {
  if (size < Math.min(c.threshold, MAX_COPY)) {
    await c.s3.send(new CopyObjectCommand({ Bucket: c.bucket, Key: to, CopySource: copySource(c.bucket, from), ...c.params }));
    return;
  }
  const created = await c.s3.send(new CreateMultipartUploadCommand({ Bucket: c.bucket, Key: to, ...c.params }));
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new StorageError('S3 CreateMultipartUpload returned no UploadId');
  try {
    const parts = await copyIntoUpload({ s3: c.s3, bucket: c.bucket, uploadId, key: to }, from, size, c.partSize);
    await c.s3.send(new CompleteMultipartUploadCommand({ Bucket: c.bucket, Key: to, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await c.s3.send(new AbortMultipartUploadCommand({ Bucket: c.bucket, Key: to, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}
