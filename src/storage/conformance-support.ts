/** Helpers shared by the storage driver conformance suite's files. */
import type { Readable } from 'node:stream';
import type { StorageDriver } from './driver.ts';
import { PathNotFoundError, StorageError } from './driver.ts';

export const MiB = 1024 * 1024;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function notFound(path: string): (err: unknown) => boolean {
  return (err) => err instanceof PathNotFoundError && err.path === path && err.code === 'BERTH_PATH_NOT_FOUND';
}

/** Storage-level refusal that is not "not found": something is in the way. */
export function inTheWay(err: unknown): boolean {
  return err instanceof StorageError && !(err instanceof PathNotFoundError);
}

export async function walked(driver: StorageDriver, path: string): Promise<string[]> {
  const seen: string[] = [];
  await driver.walk(path, (info) => {
    seen.push(info.path);
  });
  return seen;
}
