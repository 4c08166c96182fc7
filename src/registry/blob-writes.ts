/**
 * Writing a blob's bytes to their content-addressed place, in step with garbage collection
 * (meta/gc.ts, docs/gc.md): announce the write (MetaStore.beginBlobWrite) so that a collection
 * does not mark the blob while it is written, and wait while one is deleting the same blob's
 * bytes (a mark lasts seconds: a collection deletes a batch of files, then drops its marks).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MetaStore } from '../meta/store.ts';

/** Longer than any mark lasts (registry/gc.ts MARK_TTL_MS): a mark past its expiry no longer blocks. */
const WAIT_LIMIT_MS = 60_000;

export class BlobWriteBusyError extends Error {
  readonly code = 'BERTH_BLOB_WRITE_BUSY';
  constructor(readonly digest: string) {
    super(`blob ${digest} is still being deleted by garbage collection`);
  }
}

/**
 * Run `write(token)` as an announced write of the blob: `write` puts the bytes in place and passes
 * the token to the meta store call that links them (which ends the write in its transaction). If
 * `write` fails, the write is ended here.
 */
export async function withBlobWrite<T>(meta: Pick<MetaStore, 'beginBlobWrite' | 'endBlobWrite'>, digest: string, write: (token: string) => Promise<T>): Promise<T> {
  const token = await beginBlobWrite(meta, digest);
  try {
    return await write(token);
  } catch (err) {
    await meta.endBlobWrite(token).catch(() => undefined);
    throw err;
  }
}

async function beginBlobWrite(meta: Pick<MetaStore, 'beginBlobWrite'>, digest: string): Promise<string> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    const token = await meta.beginBlobWrite(digest);
    if (token !== undefined) return token;
    if (Date.now() > deadline) throw new BlobWriteBusyError(digest);
    await sleep(wait);
  }
}
