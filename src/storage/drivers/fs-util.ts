/** Helpers of the filesystem driver: errno mapping, directory fsyncs, durable writes and copies. */
import fs, { type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import nodePath from 'node:path';
import { PathNotFoundError, StorageError } from '../driver.ts';
import { TEMP_PREFIX } from '../base.ts';

export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function tempSibling(full: string): string {
  return nodePath.join(nodePath.dirname(full), TEMP_PREFIX + randomBytes(8).toString('hex'));
}

export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** For reads, a .catch handler: nothing (or a directory where a file should be) at `path`. */
export function notFound(path: string): (err: unknown) => never {
  return (err) => {
    const code = errnoOf(err);
    throw code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? new PathNotFoundError(path) : err;
  };
}

/** A .catch handler for entries that may vanish concurrently: missing yields `fallback`. */
export function ifMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return fallback;
    throw err;
  };
}

/** For writes: a file or directory blocks the path. */
export function inTheWay(err: unknown, path: string): unknown {
  const code = errnoOf(err);
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY') {
    return new StorageError(`${path}: a file or directory is in the way`, { cause: err });
  }
  return code === 'ENOENT' ? new PathNotFoundError(path) : err;
}

export function throwInTheWay(path: string): (err: unknown) => never {
  return (err) => {
    throw inTheWay(err, path);
  };
}

export async function withHandle<T>(full: string, flags: string | number, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await fs.open(full, flags);
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

/** fsync a directory so the entries created, renamed or removed in it survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  await withHandle(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, (handle) => handle.sync());
}

/** mkdir -p, then fsync the parent of every directory it created so they survive a crash. */
export async function makeDirectories(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true }).catch(ifMissing(undefined)); // pruned: caller retries
  if (first === undefined) return;
  for (let created = dir; created.length >= first.length; created = nodePath.dirname(created)) {
    await syncDirectory(nodePath.dirname(created)).catch(ifMissing(undefined));
  }
}

/** Write a new file, flushed to disk unless durable is false. */
export async function writeNew(full: string, content: Buffer, durable: boolean): Promise<void> {
  await withHandle(full, 'wx', async (handle) => {
    await handle.writeFile(content);
    if (durable) await handle.datasync();
  });
}

/** Rename across filesystems: copy to a temp sibling of `to`, fdatasync, rename, unlink `from`. */
export async function copyAcross(from: string, to: string): Promise<void> {
  const temp = tempSibling(to);
  try {
    await fs.copyFile(from, temp, fs.constants.COPYFILE_EXCL);
    await withHandle(temp, 'r+', (handle) => handle.datasync());
    await fs.rename(temp, to);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined); // keep the original error
    throw err;
  }
  await fs.rm(from, { force: true });
}
