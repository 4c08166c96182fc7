/**
 * A blob's bytes between storage and a backup directory (`berth backup --with-blobs`, `berth
 * restore`): a hard link when storage is the filesystem and on the same device (no copy, no
 * time), else streamed, hashed as it goes and kept only when its digest is right.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';
import { uploadDataPath } from '../storage/paths.ts';

export type Copied = 'linked' | 'copied' | 'absent';

/** Thrown when bytes do not hash to their digest. */
export class BlobDigestError extends Error {
  readonly code = 'BERTH_BACKUP_DIGEST';
}

function hashing(algorithm: string): { transform: Transform; digest: () => string } {
  const hash = createHash(algorithm);
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { transform, digest: () => `${algorithm}:${hash.digest('hex')}` };
}

function algorithmOf(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

/**
 * Put the blob at `storagePath` into the file `to` (whose directory is made): linked from
 * `storageRoot` (the filesystem driver's root) when it can be, else streamed from the driver and
 * verified. 'absent' when storage lacks it.
 */
export async function blobToFile(driver: StorageDriver, storageRoot: string | undefined, storagePath: string, digest: string, to: string): Promise<Copied> {
  await fs.promises.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  if (storageRoot !== undefined) {
    try {
      await fs.promises.link(path.join(storageRoot, storagePath), to);
      return 'linked';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'absent';
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    }
  }
  let source;
  try {
    source = await driver.reader(storagePath);
  } catch (err) {
    if (err instanceof PathNotFoundError) return 'absent';
    throw err;
  }
  const partial = `${to}.partial`;
  const check = hashing(algorithmOf(digest));
  await pipeline(source, check.transform, fs.createWriteStream(partial, { mode: 0o600 }));
  const got = check.digest();
  if (got !== digest) {
    await fs.promises.rm(partial, { force: true });
    throw new BlobDigestError(`${storagePath} holds ${got}, not ${digest}`);
  }
  await fs.promises.rename(partial, to);
  return 'copied';
}

/** Write the file `from` into storage at `storagePath`, streamed and committed only when its digest is right. */
export async function fileToBlob(driver: StorageDriver, from: string, storagePath: string, digest: string): Promise<void> {
  const check = hashing(algorithmOf(digest));
  // written where uploads are, then moved into the blob layout whole
  const staging = uploadDataPath(`restore-${randomUUID()}`);
  const writer = await driver.writer(staging, false);
  try {
    await pipeline(fs.createReadStream(from), check.transform, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) await writer.write(chunk);
    });
    const got = check.digest();
    if (got !== digest) throw new BlobDigestError(`${from} holds ${got}, not ${digest}`);
    await writer.commit();
  } catch (err) {
    await writer.cancel().catch(() => undefined);
    throw err;
  }
  await driver.move(staging, storagePath);
}
