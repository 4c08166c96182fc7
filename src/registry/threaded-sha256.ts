/**
 * An incremental sha256 that hashes on libuv's threadpool (native/sha256.c) while the event loop
 * goes on receiving: a push's bytes are hashed beside the socket instead of between its reads.
 *
 * Profile that led here (a 256 MiB `curl -T` push on two cores): the main thread was busy for
 * about as long as the push took, a quarter of it in node:crypto's synchronous update
 * (sha256_block_data_order_shaext), while the second core waited on it.
 *
 * Chunks are hashed in order, batched: while one pool job hashes, later chunks queue and the next
 * job takes them all. A small chunk with nothing queued is hashed at once on the calling thread,
 * since the hop to a pool thread costs more than hashing 16 KiB (a 4 KiB push stays on the loop).
 * The caller must not change a chunk after passing it (the bytes of a request body never are).
 * Past its share of the backlog not yet hashed, update() returns a promise to wait on, so a slow pool holds
 * back reading instead of growing memory.
 */
import { createRequire } from 'node:module';
import { SharedBudget } from '../storage/shared-budget.ts';

interface Addon {
  create(): object;
  update(context: object, buffers: Buffer[], callback: (err: Error | null) => void): void;
  updateSync(context: object, buffer: Buffer): void;
  digest(context: object, final: boolean): Buffer;
}

/** Chunks below this are hashed inline when nothing is queued. */
const SMALL = 16 * 1024;
/**
 * Bytes queued or being hashed before update() asks its caller to wait: 8 MiB for one hash, a share
 * of 8 MiB among those hashing at once, at least 256 KiB each. The chunks a hash holds are held on
 * top of those its upload's write window holds (the writer may be ahead): with 32 concurrent
 * 64 MiB pushes and 1 MiB each, the server held 56-64 MiB of request-body chunks at its peak, 32
 * of them for the write windows. A share of 256 KiB still keeps 8 MiB queued for the threadpool.
 */
const backlogs = new SharedBudget(8 * 1024 * 1024, 256 * 1024, 8 * 1024 * 1024);

function loadAddon(): Addon | undefined {
  if (process.env['BERTH_THREADED_HASH'] === '0') return undefined;
  try {
    // From src/registry or dist/registry alike, the addon is two levels up.
    const addon = createRequire(import.meta.url)('../../native/build/Release/berth_sha256.node') as Partial<Addon>;
    if (typeof addon.create !== 'function' || typeof addon.update !== 'function') return undefined;
    addon.create(); // a Node without OpenSSL's symbols fails here, not in the middle of a push
    return addon as Addon;
  } catch {
    return undefined;
  }
}

const addon = loadAddon();

/** Whether sha256 can run on the threadpool here (the addon is built and loads). */
export const threadedSha256Available = addon !== undefined;

export class ThreadedSha256 {
  private readonly context: object;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private hashingBytes = 0;
  private busy = false;
  private failure: Error | undefined;
  /** Callers waiting for the backlog to shrink, and for everything queued to be hashed. */
  private roomWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor() {
    if (addon === undefined) throw new Error('the native sha256 addon is not available');
    this.context = addon.create();
  }

  /** Hash `chunk` after everything before it; a promise when the caller should wait before the next. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const native = addon as Addon;
    if (!this.busy && this.queuedBytes === 0 && chunk.length < SMALL) {
      native.updateSync(this.context, chunk);
      return undefined;
    }
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    if (!this.busy) this.submit();
    if (this.queuedBytes + this.hashingBytes <= backlogs.share()) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** `sha256:<hex>` of everything so far; hashing may go on. */
  async peek(): Promise<string> {
    await this.drained();
    return `sha256:${(addon as Addon).digest(this.context, false).toString('hex')}`;
  }

  /** `sha256:<hex>` of everything; the hash is done. */
  async digest(): Promise<string> {
    await this.drained();
    return `sha256:${(addon as Addon).digest(this.context, true).toString('hex')}`;
  }

  private submit(): void {
    const buffers = this.queued;
    this.queued = [];
    this.hashingBytes = this.queuedBytes;
    this.queuedBytes = 0;
    backlogs.enter();
    this.busy = true;
    (addon as Addon).update(this.context, buffers, (err) => {
      this.busy = false;
      backlogs.leave();
      this.hashingBytes = 0;
      if (err) this.failure ??= err;
      if (this.queued.length > 0 && !this.failure) this.submit();
      if (this.failure || this.queuedBytes + this.hashingBytes <= backlogs.share() / 2) wake(this.roomWaiters.splice(0));
      if (!this.busy) wake(this.drainWaiters.splice(0));
    });
  }

  private async drained(): Promise<void> {
    if (this.busy) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    if (this.failure) throw this.failure;
  }
}

function wake(waiters: (() => void)[]): void {
  for (const resolve of waiters) resolve();
}
