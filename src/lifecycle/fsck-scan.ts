/**
 * The building blocks of fsck's scan: where a blob lives in storage and which paths are blobs
 * (storage/paths.ts), hashing a stored file as it streams, a bounded pool of such hashes, and a
 * cursor over the meta store's blob records in digest order, the order in which the driver's walk
 * visits the blob layout.
 */
import { createHash } from 'node:crypto';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.ts';
import { blobDataPath, BLOBS_ROOT } from '../storage/paths.ts';
import type { BlobInventory, InventoryBlob } from '../meta/inventory.ts';

const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const LAYOUT = new RegExp(`^${BLOBS_ROOT}/(sha256|sha512)/([0-9a-f]{2})/([0-9a-f]+)$`);

/** The storage path of a recorded digest (`sha256:hex`), or undefined for one that is not a digest berth stores. */
export function pathOfDigest(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (HEX_LENGTH[algorithm] !== hex.length || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return blobDataPath(algorithm, hex);
}

/** The digest whose bytes belong at `path`, or undefined for a path outside the blob layout. */
export function digestOfPath(path: string): string | undefined {
  const m = LAYOUT.exec(path);
  if (m === null) return undefined;
  const [, algorithm = '', prefix = '', hex = ''] = m;
  return HEX_LENGTH[algorithm] === hex.length && hex.startsWith(prefix) ? `${algorithm}:${hex}` : undefined;
}

export interface Hashed {
  digest: string;
  size: number;
}

/**
 * The digest and size of the file at `path`, hashed as it streams (memory stays flat whatever
 * the size); undefined when the file is absent. `onBytes` is told of each chunk.
 */
export async function hashStored(driver: StorageDriver, path: string, algorithm: string, onBytes: (n: number) => void = () => undefined): Promise<Hashed | undefined> {
  let stream;
  try {
    stream = await driver.reader(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
  const hash = createHash(algorithm);
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
    onBytes(bytes.length);
  }
  return { digest: `${algorithm}:${hash.digest('hex')}`, size };
}

/** Runs at most `limit` tasks at once; add() waits for room. The first failure is thrown by add() or drain(). */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.check();
    const p: Promise<void> = task().then(
      () => void this.running.delete(p),
      (err: unknown) => {
        this.failure ??= { err };
        this.running.delete(p);
      },
    );
    this.running.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.err;
  }
}

/** The meta store's blob records in digest order, read a page at a time. */
export class RecordCursor {
  private page: InventoryBlob[] = [];
  private index = 0;
  private after = '';
  private finished = false;

  constructor(
    private readonly inventory: BlobInventory,
    private readonly pageSize = 1000,
  ) {}

  /** The next record, without moving past it; undefined at the end. */
  async peek(): Promise<InventoryBlob | undefined> {
    if (this.index < this.page.length) return this.page[this.index];
    if (this.finished) return undefined;
    this.page = await this.inventory.blobs(this.after, this.pageSize);
    this.index = 0;
    const last = this.page[this.page.length - 1];
    if (last === undefined || this.page.length < this.pageSize) this.finished = true;
    if (last !== undefined) this.after = last.digest;
    return this.page[0];
  }

  next(): void {
    this.index++;
  }
}
