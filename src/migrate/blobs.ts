/**
 * The blob phase of `berth migrate`: every blob the source's meta store knows, streamed from the
 * source driver to the target driver at its content-addressed path (storage/paths.ts), a few at a
 * time. Each is hashed while it streams and committed only when its digest and size match; one
 * that does not is cancelled and reported, never written. A blob the target already holds with
 * the right size is skipped, so a second run copies only what is new. Memory stays flat in blob
 * size: a chunk is read only once the target took the one before it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath } from '../storage/paths.ts';
import type { Progress } from './progress.ts';
import type { SourceBlob } from './source.ts';

export interface BlobCopyOptions {
  source: StorageDriver;
  target: StorageDriver;
  blobs: readonly SourceBlob[];
  /** The bytes the source's blob journal still holds for a digest (its file may be missing). */
  journaled?: (digest: string) => Buffer | undefined;
  /** Blobs copied at once (default 4). */
  concurrency?: number;
  /** Only find out what would be copied. */
  dryRun?: boolean;
  progress: Progress;
}

export interface BlobFailure {
  digest: string;
  reason: string;
}

export interface BlobReport {
  total: number;
  copied: number;
  skipped: number;
  /** Bytes copied (or, in a dry run, that would be). */
  bytes: number;
  failed: BlobFailure[];
}

/** A blob whose bytes are not what its digest says (or not there): reported, not recorded. */
export class BlobMismatchError extends Error {
  readonly code = 'BERTH_MIGRATE_BLOB_MISMATCH';
}

/** The storage path of a digest (`sha256:hex`). */
export function blobPath(digest: string): string {
  const colon = digest.indexOf(':');
  if (colon <= 0) throw new BlobMismatchError(`not a digest: ${JSON.stringify(digest)}`);
  return blobDataPath(digest.slice(0, colon), digest.slice(colon + 1));
}

/** The size of the file at `path` in `driver`, or undefined when it is absent. */
export async function sizeAt(driver: StorageDriver, path: string): Promise<number | undefined> {
  try {
    return (await driver.stat(path)).size;
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
}

async function openSource(opts: BlobCopyOptions, blob: SourceBlob, path: string): Promise<Readable> {
  try {
    return await opts.source.reader(path);
  } catch (err) {
    const kept = err instanceof PathNotFoundError ? opts.journaled?.(blob.digest) : undefined;
    if (kept !== undefined) return Readable.from([kept]);
    throw err instanceof PathNotFoundError ? new BlobMismatchError('missing from the source storage') : err;
  }
}

/** Stream one blob, hashing it; commit only when digest and size match. Returns the bytes copied. */
async function copyOne(opts: BlobCopyOptions, blob: SourceBlob, path: string, onBytes: (n: number) => void): Promise<void> {
  const algorithm = blob.digest.slice(0, blob.digest.indexOf(':'));
  let hash;
  try {
    hash = createHash(algorithm);
  } catch {
    throw new BlobMismatchError(`unknown digest algorithm ${JSON.stringify(algorithm)}`);
  }
  const input = await openSource(opts, blob, path);
  const writer = await opts.target.writer(path, false);
  let size = 0;
  try {
    for await (const chunk of input) {
      const buf = chunk as Buffer;
      hash.update(buf);
      size += buf.length;
      await writer.write(buf);
      onBytes(buf.length);
    }
    const digest = `${algorithm}:${hash.digest('hex')}`;
    if (digest !== blob.digest) throw new BlobMismatchError(`the source's bytes hash to ${digest}`);
    if (size !== blob.size) throw new BlobMismatchError(`${size} bytes in the source, ${blob.size} recorded`);
  } catch (err) {
    input.destroy();
    await writer.cancel().catch(() => undefined);
    throw err;
  }
  await writer.commit();
}

/** Copy every blob not yet in the target; failures are collected, not thrown. */
export async function copyBlobs(opts: BlobCopyOptions): Promise<BlobReport> {
  const report: BlobReport = { total: opts.blobs.length, copied: 0, skipped: 0, bytes: 0, failed: [] };
  const phase = opts.progress.phase('blobs', opts.blobs.reduce((sum, b) => sum + b.size, 0), 'bytes');
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < opts.blobs.length; i = next++) {
      const blob = opts.blobs[i] as SourceBlob;
      let ticked = 0;
      const onBytes = (n: number): void => {
        ticked += n;
        phase.tick(n);
      };
      try {
        const path = blobPath(blob.digest);
        if ((await sizeAt(opts.target, path)) === blob.size) {
          report.skipped++;
        } else if (opts.dryRun === true) {
          report.copied++;
          report.bytes += blob.size;
        } else {
          await copyOne(opts, blob, path, onBytes);
          report.copied++;
          report.bytes += blob.size;
        }
      } catch (err) {
        report.failed.push({ digest: blob.digest, reason: (err as Error).message });
      }
      phase.tick(Math.max(0, blob.size - ticked));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  phase.done();
  report.failed.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return report;
}
