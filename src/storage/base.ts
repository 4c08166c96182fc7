/**
 * Cross-cutting concerns around any StorageDriver, applied once (after distribution's
 * storage/driver/base): `withPathValidation` checks every path against the grammar of
 * driver.ts before the driver sees it, so drivers never repeat the check.
 *
 * The grammar: absolute, slash-separated segments of lowercase letters, digits, `.`, `_`, `-`;
 * no empty segment, no trailing slash, no `.` or `..` segment. Two refinements:
 *  - a segment may not start with TEMP_PREFIX, which drivers reserve for in-flight temp files
 *    (the filesystem driver hides them from list and walk, so a user path there would vanish);
 *  - the root `/` is a valid argument only to list and walk.
 */
import type { FileInfo, FileWriter, OpenFile, ReadOptions, StorageDriver, PutOptions, WriterOptions } from './driver.ts';
import { InvalidPathError } from './driver.ts';
import type { Readable } from 'node:stream';

/** Name prefix of a driver's temporary files; never part of a valid path. */
export const TEMP_PREFIX = '.tmp-';

const SEGMENT = /^[a-z0-9._-]+$/;

function isValidSegment(segment: string): boolean {
  return SEGMENT.test(segment) && segment !== '.' && segment !== '..' && !segment.startsWith(TEMP_PREFIX);
}

/** Whether `path` names a file or directory below the root (the root itself is not included). */
export function isValidPath(path: string): boolean {
  return path.startsWith('/') && path.slice(1).split('/').every(isValidSegment);
}

function checkPath(path: string): void {
  if (!isValidPath(path)) throw new InvalidPathError(path);
}

function checkDirectoryPath(path: string): void {
  if (path !== '/') checkPath(path);
}

/** Wrap a driver so that every call with an invalid path rejects with InvalidPathError. */
export function withPathValidation(driver: StorageDriver): StorageDriver {
  const purgeIncomplete = driver.purgeIncomplete?.bind(driver); // no path: passed through as is
  return {
    ...(purgeIncomplete !== undefined && { purgeIncomplete }),
    name: driver.name,
    async getContent(path: string): Promise<Buffer> {
      checkPath(path);
      return driver.getContent(path);
    },
    async putContent(path: string, content: Buffer, opts?: PutOptions): Promise<void> {
      checkPath(path);
      return driver.putContent(path, content, opts);
    },
    async openFile(path: string): Promise<OpenFile | undefined> {
      checkPath(path);
      return driver.openFile(path);
    },
    async flush(paths: string[]): Promise<string[]> {
      for (const path of paths) checkPath(path);
      return driver.flush(paths);
    },
    async reader(path: string, opts?: ReadOptions): Promise<Readable> {
      checkPath(path);
      return driver.reader(path, opts);
    },
    async writer(path: string, append: boolean, opts?: WriterOptions): Promise<FileWriter> {
      checkPath(path);
      return driver.writer(path, append, opts);
    },
    async stat(path: string): Promise<FileInfo> {
      checkPath(path);
      return driver.stat(path);
    },
    async list(path: string): Promise<string[]> {
      checkDirectoryPath(path);
      return driver.list(path);
    },
    async move(src: string, dst: string): Promise<void> {
      checkPath(src);
      checkPath(dst);
      return driver.move(src, dst);
    },
    async delete(path: string): Promise<void> {
      checkPath(path);
      return driver.delete(path);
    },
    async redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
      checkPath(path);
      return driver.redirectURL(path, method);
    },
    async walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
      checkDirectoryPath(path);
      return driver.walk(path, visit);
    },
  };
}
