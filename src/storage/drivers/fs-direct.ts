/**
 * Direct I/O for the filesystem driver's writers: O_DIRECT writes go from a page-aligned buffer to
 * the device without a copy into the page cache, and leave no dirty pages for the kernel's flusher
 * threads to write back. On this project's 2-core machine the buffered path cost 2-3 ms of kernel
 * CPU per MiB (copy_folio_from_iter_atomic was 46% of a 256 MiB push's samples) against 0.25 ms for
 * O_DIRECT (dd: 1.42 s against 0.14 s of system time for 512 MiB), and that CPU is what a push on
 * two cores runs out of.
 *
 * O_DIRECT needs the buffer's address, its length and the file offset aligned to the logical
 * block size: Node's Buffers are not page-aligned, so the buffers come from the native addon
 * (native/aligned.c). Without it, or where the filesystem refuses O_DIRECT (EINVAL: tmpfs on old
 * kernels, some FUSE and network filesystems), writers stay buffered. BERTH_DIRECT_IO=0 switches
 * it off.
 */
import { createRequire } from 'node:module';
import fs, { type FileHandle } from 'node:fs/promises';
import { errnoOf } from './fs-util.ts';

/** Offsets and lengths of direct writes are multiples of this (covers 512 and 4096-byte devices). */
export const DIRECT_ALIGNMENT = 4096;

type AlignedBufferFn = (size: number) => Buffer;

function loadAddon(): AlignedBufferFn | undefined {
  const oDirect = fs.constants.O_DIRECT as number | undefined;
  if (process.env['BERTH_DIRECT_IO'] === '0' || process.platform !== 'linux' || oDirect === undefined) return undefined;
  try {
    // From src/storage/drivers or dist/storage/drivers alike, the addon is three levels up.
    const addon = createRequire(import.meta.url)('../../../native/build/Release/berth_aligned.node') as { alignedBuffer?: AlignedBufferFn };
    return addon.alignedBuffer;
  } catch {
    return undefined;
  }
}

const alignedBuffer = loadAddon();

/** Whether writers can write with O_DIRECT here (the addon is built, the platform has O_DIRECT). */
export const directIOAvailable = alignedBuffer !== undefined;

/** `size` rounded up to the alignment. */
export function alignUp(size: number): number {
  return Math.ceil(size / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
}

/**
 * Aligned buffers of one size, reused across writers: a push allocates none once the pool is warm,
 * and at most `maxIdle` stay allocated between pushes. A writer's second buffer (the one it fills
 * while the first is written) is only lent while fewer than `maxLent` are out, which bounds the
 * memory of many concurrent pushes.
 */
export class AlignedPool {
  private readonly idle: Buffer[] = [];
  private lent = 0;

  constructor(
    readonly size: number,
    private readonly maxIdle: number,
    private readonly maxLent: number,
  ) {}

  /** Buffers lent and not yet returned. */
  get lentOut(): number {
    return this.lent;
  }

  /** A buffer, always (a writer's first). */
  acquire(): Buffer {
    this.lent++;
    const buffer = this.idle.pop();
    if (buffer !== undefined) return buffer;
    if (alignedBuffer === undefined) throw new Error('direct I/O is not available');
    return alignedBuffer(this.size);
  }

  /** A buffer if fewer than maxLent are out, else undefined. */
  tryAcquire(): Buffer | undefined {
    return this.lent < this.maxLent ? this.acquire() : undefined;
  }

  release(buffer: Buffer): void {
    this.lent--;
    if (this.idle.length < this.maxIdle) this.idle.push(buffer);
  }
}

const pools = new Map<number, AlignedPool>();

/** The shared pool of `size`-byte buffers (size a multiple of DIRECT_ALIGNMENT); 64 MiB of them lent out at most, beyond one per writer. */
export function alignedPool(size: number): AlignedPool {
  let pool = pools.get(size);
  if (pool === undefined) {
    const budget = Math.max(2, Math.floor((64 * 1024 * 1024) / size));
    pool = new AlignedPool(size, Math.min(8, budget), budget);
    pools.set(size, pool);
  }
  return pool;
}

/**
 * A second, O_DIRECT handle on `full` for positional writes, or undefined when direct I/O is off
 * or the filesystem refuses it.
 */
export async function openDirect(full: string): Promise<FileHandle | undefined> {
  if (!directIOAvailable) return undefined;
  try {
    return await fs.open(full, fs.constants.O_WRONLY | fs.constants.O_DIRECT);
  } catch (err) {
    if (errnoOf(err) === 'EINVAL') return undefined;
    throw err;
  }
}
