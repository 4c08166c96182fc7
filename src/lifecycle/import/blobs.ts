/**
 * The blob phase of `berth import`: every blob the source's repositories reference, verified by
 * its sha256 while it is read (a corrupt one is reported and never imported), then placed at its
 * content-addressed path (storage/paths.ts):
 *
 *  - link: a hard link from the source's data file into berth's filesystem storage (no copy);
 *  - move: a rename of it (the source loses the blob: for a registry:2 that will not run again);
 *  - stream: through the storage driver's writer, committed only once the digest matched (another
 *    filesystem, the S3 driver, or --copy). link and move fall back to it when the kernel refuses
 *    (EXDEV: another filesystem; EPERM: protected_hardlinks, or no hard links on this filesystem).
 *
 * A link or rename goes through a temporary name beside the target and is checked to be the very
 * file that was hashed (device and inode); the directories linked into are fsynced once each at
 * the end of the phase, before any metadata refers to them. A blob berth's storage
 * already holds with the source's size is not read again: a second run costs a stat per blob.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import nodePath from 'node:path';
import type { Progress } from '../../migrate/progress.ts';
import { sizeAt } from '../../migrate/blobs.ts';
import type { StorageDriver } from '../../storage/driver.ts';
import { errnoOf, makeDirectories, syncDirectory, tempSibling } from '../../storage/drivers/fs-util.ts';
import { blobDataPath } from '../../storage/paths.ts';
import { ImportRefusedError, type OpenBlob, type Registry2Root, type Skip } from './source.ts';

export type Transfer = 'link' | 'move' | 'stream';
export type Placed = 'linked' | 'moved' | 'copied' | 'present';

export interface BlobCounts {
  found: number;
  linked: number;
  moved: number;
  copied: number;
  /** Already in berth's storage. */
  present: number;
  skipped: number;
  /** Bytes linked, moved or copied (or, in a dry run, that would be). */
  bytes: number;
}

export interface BlobPhaseOptions {
  source: Registry2Root;
  driver: StorageDriver;
  /** berth's filesystem storage root, when it is on the source's filesystem and link or move was asked for. */
  filesystemRoot?: string;
  transfer: Transfer;
  dryRun: boolean;
  concurrency: number;
  progress: Progress;
  skips: Skip[];
}

export function emptyBlobCounts(): BlobCounts {
  return { found: 0, linked: 0, moved: 0, copied: 0, present: 0, skipped: 0, bytes: 0 };
}

const LINK_ATTEMPTS = 4;

/** Hash the open file from its start; with `write`, hand each chunk on as it is read. Returns the digest and size read. */
async function hashFile(blob: OpenBlob, onBytes: (n: number) => void, write?: (chunk: Buffer) => Promise<void>): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of blob.handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    size += buf.length;
    if (write !== undefined) await write(buf);
    onBytes(buf.length);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

class CorruptBlobError extends Error {}

/** Through the driver's writer: committed only when the digest matches, cancelled otherwise. */
async function streamInto(driver: StorageDriver, path: string, digest: string, blob: OpenBlob, onBytes: (n: number) => void): Promise<number> {
  const writer = await driver.writer(path, false);
  try {
    const read = await hashFile(blob, onBytes, (chunk) => writer.write(chunk));
    if (read.digest !== digest) throw new CorruptBlobError(`its data hashes to ${read.digest}: corrupt, not imported`);
    await writer.commit();
    return read.size;
  } catch (err) {
    await writer.cancel().catch(() => undefined);
    throw err;
  }
}

/**
 * Link (or rename) the hashed file to `target` through a temporary sibling, then check that the
 * target is that file; its directory is added to `unsynced`. Returns false when the kernel
 * refuses across filesystems or permissions.
 */
async function place(blob: OpenBlob, target: string, how: 'link' | 'move', unsynced: Set<string>): Promise<boolean> {
  const dir = nodePath.dirname(target);
  for (let attempt = 1; ; attempt++) {
    await makeDirectories(dir);
    const temp = tempSibling(target);
    try {
      if (how === 'link') await fs.link(blob.path, temp);
      else await fs.rename(blob.path, temp);
      await fs.rename(temp, target);
      break;
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      const code = errnoOf(err);
      if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return false;
      // berth prunes empty blob directories as it deletes: create it again
      if (code === 'ENOENT' && attempt < LINK_ATTEMPTS && (await fs.stat(blob.path).then(() => true, () => false))) continue;
      throw err;
    }
  }
  const placed = await fs.lstat(target);
  if (placed.ino !== blob.ino || placed.dev !== blob.dev) {
    await fs.rm(target, { force: true });
    throw new ImportRefusedError('its data file was replaced while being imported: refused');
  }
  unsynced.add(dir);
  return true;
}

/** Import one blob; returns how it got there, or undefined when it was skipped (reported). */
async function importOne(opts: BlobPhaseOptions, digest: string, onBytes: (n: number) => void, unsynced: Set<string>): Promise<{ placed: Placed; size: number } | undefined> {
  const hex = digest.slice('sha256:'.length);
  const path = blobDataPath('sha256', hex);
  const skip = (reason: string): undefined => {
    opts.skips.push({ kind: 'blob', name: digest, reason });
    return undefined;
  };
  let blob: OpenBlob | undefined;
  try {
    blob = await opts.source.openBlob(hex);
  } catch (err) {
    if (err instanceof ImportRefusedError) return skip(err.message);
    throw err;
  }
  const held = await sizeAt(opts.driver, path);
  if (blob === undefined) {
    // moved by an earlier --move run that stopped before recording it
    return held === undefined ? skip('no data file in the source (referenced, but missing)') : { placed: 'present', size: held };
  }
  try {
    if (held === blob.size) {
      // perhaps linked by a run that stopped before its directories were synced
      if (opts.filesystemRoot !== undefined && !opts.dryRun) unsynced.add(nodePath.dirname(nodePath.join(opts.filesystemRoot, path)));
      return { placed: 'present', size: held };
    }
    if (opts.dryRun) {
      const read = await hashFile(blob, onBytes);
      if (read.digest !== digest) return skip(`its data hashes to ${read.digest}: corrupt, would not be imported`);
      return { placed: opts.filesystemRoot === undefined || opts.transfer === 'stream' ? 'copied' : opts.transfer === 'link' ? 'linked' : 'moved', size: read.size };
    }
    if (opts.filesystemRoot !== undefined && opts.transfer !== 'stream') {
      const read = await hashFile(blob, onBytes);
      if (read.digest !== digest) return skip(`its data hashes to ${read.digest}: corrupt, not imported`);
      if (await place(blob, nodePath.join(opts.filesystemRoot, path), opts.transfer, unsynced)) {
        return { placed: opts.transfer === 'link' ? 'linked' : 'moved', size: read.size };
      }
    }
    return { placed: 'copied', size: await streamInto(opts.driver, path, digest, blob, onBytes) };
  } catch (err) {
    if (err instanceof CorruptBlobError || err instanceof ImportRefusedError) return skip(err.message);
    throw err;
  } finally {
    await blob.handle.close();
  }
}

/**
 * Import the blobs named (sha256 digests, each once), a few at a time. Returns the size of every
 * blob berth now holds (or, in a dry run, would), by digest; counts are added to `counts`.
 */
export async function importBlobs(opts: BlobPhaseOptions, digests: readonly string[], counts: BlobCounts): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  let total = 0;
  for (const d of digests) total += await opts.source.blobSize(d.slice('sha256:'.length));
  const phase = opts.progress.phase('blobs', total, 'bytes');
  const unsynced = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < digests.length; i = next++) {
      const digest = digests[i] as string;
      let ticked = 0;
      const result = await importOne(
        opts,
        digest,
        (n) => {
          ticked += n;
          phase.tick(n);
        },
        unsynced,
      );
      counts.found++;
      if (result === undefined) {
        counts.skipped++;
      } else {
        held.set(digest, result.size);
        counts[result.placed]++;
        if (result.placed !== 'present') counts.bytes += result.size;
        if (result.placed === 'present') phase.tick(Math.max(0, result.size - ticked));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  // the links' directory entries made durable once per directory, before any metadata refers to them
  for (const dir of unsynced) await syncDirectory(dir);
  phase.done();
  return held;
}
