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
 * Aligned buffers shared by the writers of one driver. A writer holds one, or two while the budget
 * has room (it fills one while the other is written); their size is the writers' share of `budget`
 * bytes: `size` (the driver's bufferSize) while few write at once, halved as more join, down to
 * `minSize`. With the driver's 16 MiB, one push alone keeps two 2 MiB buffers, 8 at once one
 * 2 MiB buffer each, 32 at once one of 512 KiB each: 16 MiB in all, where fixed 2 MiB buffers
 * held 64 MiB. Returned buffers stay for reuse up to `maxIdle` bytes.
 *
 * Smaller direct writes cost CPU, more of them for the same bytes: 32 concurrent 64 MiB pushes
 * took 5.9 s of server CPU with one 2 MiB buffer each, 6.2-6.7 with one of 512 KiB, 6.7-7.3 with
 * two of 256 KiB (3 runs each): one buffer each rather than two halves, and the others' writes
 * keep the disk busy while one writer waits for its own.
 */
export class AlignedPool {
  /** Idle buffers by size. */
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;
  private lent = 0;
  private lentBytes = 0;
  private writers = 0;
  readonly minSize: number;

  constructor(
    /** The largest buffer size (a writer alone): a multiple of DIRECT_ALIGNMENT. */
    readonly size: number,
    /** Bytes of buffers the writers share: beyond it, no second buffers, and smaller ones. */
    private readonly budget: number,
    /** Bytes of returned buffers kept for reuse. */
    private readonly maxIdle: number,
    minSize = 128 * 1024,
  ) {
    this.minSize = Math.min(size, minSize);
  }

  /** Buffers lent and not yet returned. */
  get lentOut(): number {
    return this.lent;
  }

  /** A writer starts using the pool: the share of each shrinks. */
  enter(): void {
    this.writers++;
  }

  /** A writer is done (after returning its buffers). */
  leave(): void {
    this.writers = Math.max(0, this.writers - 1);
  }

  /**
   * The size of the buffers a writer should hold now: its share of the budget, as `size` halved
   * until it fits, at least `minSize`, always a multiple of DIRECT_ALIGNMENT.
   */
  bufferSize(): number {
    const share = this.budget / Math.max(1, this.writers);
    let size = this.size;
    while (size > share && size / 2 >= this.minSize && (size / 2) % DIRECT_ALIGNMENT === 0) size /= 2;
    return size;
  }

  /** A buffer of the current size, always (a writer's first). */
  acquire(): Buffer {
    const size = this.bufferSize();
    this.lent++;
    this.lentBytes += size;
    const buffer = this.idle.get(size)?.pop();
    if (buffer !== undefined) {
      this.idleBytes -= size;
      return buffer;
    }
    if (alignedBuffer === undefined) throw new Error('direct I/O is not available');
    return alignedBuffer(size);
  }

  /** A buffer of the current size if the budget has room for it, else undefined (a writer's second). */
  tryAcquire(): Buffer | undefined {
    return this.lentBytes + this.bufferSize() <= this.budget ? this.acquire() : undefined;
  }

  release(buffer: Buffer): void {
    this.lent--;
    this.lentBytes -= buffer.length;
    if (this.idleBytes + buffer.length > this.maxIdle) return; // freed by the GC: its memory goes back to the kernel
    let list = this.idle.get(buffer.length);
    if (list === undefined) this.idle.set(buffer.length, (list = []));
    list.push(buffer);
    this.idleBytes += buffer.length;
  }
}

const pools = new Map<number, AlignedPool>();

/** Bytes of aligned buffers the writers of a pool share (see AlignedPool). */
const POOL_BUDGET = 16 * 1024 * 1024;

/** The shared pool whose largest buffers are `size` bytes (a multiple of DIRECT_ALIGNMENT). */
export function alignedPool(size: number): AlignedPool {
  let pool = pools.get(size);
  if (pool === undefined) {
    pool = new AlignedPool(size, Math.max(POOL_BUDGET, 2 * size), Math.max(POOL_BUDGET / 2, 2 * size));
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
