/**
 * The sha256 of an upload, computed while its bytes stream in, request after request.
 *
 * - LocalUploadHashes (one node): node:crypto, its state in an in-memory LRU. A session continued
 *   by another process has no state there, and its digest is computed by re-reading it.
 * - SharedUploadHashes (several nodes behind a load balancer): hash-wasm, whose state can be
 *   saved and loaded, kept in an UploadStateStore after each request's bytes are durable, so
 *   whichever node receives the next PATCH or the final PUT continues the hash without reading
 *   the bytes back. A request holds the session across the cluster while it writes (renewing the
 *   hold as bytes arrive); a second request meanwhile, on any node, is an out-of-order chunk.
 *
 * hash-wasm is about 4-5 times slower than node:crypto (OpenSSL with SHA-NI), so a single node
 * keeps OpenSSL: on the threadpool (threaded-sha256.ts), or node:crypto without the addon.
 */
import { randomUUID, type Hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { IHasher } from 'hash-wasm';
import { LRUCache } from 'lru-cache';
import type { SavedUploadState, UploadStateStore } from '../meta/upload-state.ts';
import { newHash } from './digest.ts';
import { UploadRangeError, UploadUnknownError } from './errors.ts';
import { ThreadedSha256, threadedSha256Available } from './threaded-sha256.ts';

/** An incremental sha256. */
export interface UploadHasher {
  /** Hash `chunk` after the earlier ones (the caller leaves it unchanged); a promise when the caller should wait before the next. */
  update(chunk: Buffer): Promise<void> | undefined;
  /** `sha256:<hex>` of the bytes so far; hashing may go on. */
  peek(): Promise<string>;
  /** `sha256:<hex>` of the bytes so far; the hasher is done. */
  digest(): Promise<string>;
  /** The state to resume from (hash-wasm), or undefined when it cannot leave this process. */
  save(): Uint8Array | undefined;
}

/** node:crypto on the calling thread: where the threadpool's sha256 (native/sha256.c) is not built. */
class CryptoHasher implements UploadHasher {
  private readonly hash: Hash = newHash('sha256');
  update(chunk: Buffer): undefined {
    this.hash.update(chunk);
    return undefined;
  }
  async peek(): Promise<string> {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }
  async digest(): Promise<string> {
    return `sha256:${this.hash.digest('hex')}`;
  }
  save(): undefined {
    return undefined;
  }
}

/** OpenSSL's sha256 on the threadpool, beside the event loop that receives the bytes. */
class PoolHasher extends ThreadedSha256 implements UploadHasher {
  save(): undefined {
    return undefined;
  }
}

/** A new in-process hash: on the threadpool when the addon is built, else node:crypto. */
export function localHasher(): UploadHasher {
  return threadedSha256Available ? new PoolHasher() : new CryptoHasher();
}

/** A sha256 whose state can be saved and resumed in another process (hash-wasm). */
export class ResumableHasher implements UploadHasher {
  private constructor(private readonly hasher: IHasher) {}

  /** A new hash, or one resumed from `state` (throws if it is not a state hash-wasm's sha256 saved). */
  static async create(state?: Uint8Array): Promise<ResumableHasher> {
    // Loaded on first use: only a node of a cluster hashes with it, and its WebAssembly and
    // modules cost a server that never does about 5 MiB of RSS.
    const { createSHA256 } = await import('hash-wasm');
    const hasher = await createSHA256();
    if (state === undefined) hasher.init();
    else hasher.load(state);
    return new ResumableHasher(hasher);
  }

  update(chunk: Buffer): undefined {
    this.hasher.update(chunk);
    return undefined;
  }
  async peek(): Promise<string> {
    const state = this.hasher.save();
    const digest = this.hasher.digest('hex');
    this.hasher.load(state);
    return `sha256:${digest}`;
  }
  async digest(): Promise<string> {
    return `sha256:${this.hasher.digest('hex')}`;
  }
  save(): Uint8Array {
    return this.hasher.save();
  }
}

/** One request's hold on an upload session, and the hash of what the session holds. */
export interface HeldUpload {
  /** The hash to feed a chunk appended at `start` (the upload's size), or undefined when the bytes before it were not hashed. */
  resume(start: number): Promise<UploadHasher | undefined>;
  /** The body, wrapped so that the hold is renewed while it streams (throws once the hold is lost). */
  guard(body: Readable): Readable;
  /** Before the chunk's bytes are committed: make sure the hold outlasts the commit. */
  confirm(): Promise<void>;
  /**
   * The chunk's bytes are durable and the upload holds `size` bytes: keep the hash (shared: and
   * save it, when `persist`, before the request is acknowledged).
   */
  keep(hasher: UploadHasher | undefined, size: number, persist: boolean): Promise<void>;
  /** The chunk failed: its bytes may be partly written, the hash no longer matches them. */
  drop(): void;
  /** `sha256:<hex>` of the whole upload of `size` bytes when its hash is known, else undefined. */
  digest(size: number): Promise<string | undefined>;
  /** End the hold (idempotent). */
  release(): Promise<void>;
}

export interface UploadHashes {
  /** Hold a session for one request: UploadRangeError when another node's request holds it. */
  hold(id: string): Promise<HeldUpload>;
  /** Forget a session's hash (finished, cancelled, purged). */
  forget(id: string): Promise<void>;
}

interface LocalState {
  hasher: UploadHasher;
  offset: number;
}

/** In-process hashes: node:crypto, hold and state in this process only. */
export class LocalUploadHashes implements UploadHashes {
  /** Sessions whose bytes all went through this process, bounded: a lost state only means re-reading the upload. */
  private readonly states = new LRUCache<string, LocalState>({ max: 10_000 });

  async hold(id: string): Promise<HeldUpload> {
    const states = this.states;
    return {
      resume: async (start) => {
        if (start === 0) states.set(id, { hasher: localHasher(), offset: 0 });
        const state = states.get(id);
        if (state !== undefined && state.offset === start) return state.hasher;
        states.delete(id);
        return undefined;
      },
      guard: (body) => body,
      confirm: async () => undefined,
      keep: async (hasher, size) => {
        const state = states.get(id);
        if (hasher !== undefined && state?.hasher === hasher) state.offset = size;
      },
      drop: () => void states.delete(id),
      digest: async (size) => {
        const state = states.get(id);
        if (state === undefined || state.offset !== size) return undefined;
        states.delete(id);
        return state.hasher.digest();
      },
      release: async () => undefined,
    };
  }

  async forget(id: string): Promise<void> {
    this.states.delete(id);
  }
}

export interface SharedUploadHashesOptions {
  /** How long a hold lasts without renewal (ms, default 60 s); renewed as bytes arrive after a third of it. */
  leaseMs?: number;
}

/** Hashes shared by the nodes of a cluster through an UploadStateStore. */
export class SharedUploadHashes implements UploadHashes {
  private readonly leaseMs: number;

  constructor(
    private readonly store: UploadStateStore,
    opts: SharedUploadHashesOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
  }

  async hold(id: string): Promise<HeldUpload> {
    const holder = randomUUID();
    const claimed = performance.now();
    const claim = await this.store.claim(id, holder, this.leaseMs);
    if (claim.kind === 'unknown') throw new UploadUnknownError(id);
    if (claim.kind === 'busy') throw new UploadRangeError(claim.size, 'another request is writing to this upload');
    return new SharedHold(this.store, id, holder, this.leaseMs, claim.saved, claimed);
  }

  async forget(id: string): Promise<void> {
    await this.store.delete(id);
  }
}

class SharedHold implements HeldUpload {
  private released = false;
  /** What the hash state is known to cover: the saved state, then this request's. */
  private known: { size: number; hasher?: UploadHasher; state?: Uint8Array } | undefined;

  constructor(
    private readonly store: UploadStateStore,
    private readonly id: string,
    private readonly holder: string,
    private readonly leaseMs: number,
    /** The state saved by the last acknowledged request; `size` is the compare-and-set's expected value. */
    private readonly saved: SavedUploadState,
    /** When the hold was last taken or renewed (performance.now()). */
    private renewedAt: number,
  ) {
    this.known = saved.hashState === undefined ? undefined : { size: saved.size, state: saved.hashState };
  }

  async resume(start: number): Promise<UploadHasher | undefined> {
    if (start === 0) return ResumableHasher.create();
    return this.load(start);
  }

  guard(body: Readable): Readable {
    const renewing = async function* (hold: SharedHold): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        await hold.confirm();
        yield chunk as Buffer;
      }
    };
    return Readable.from(renewing(this), { objectMode: false });
  }

  async confirm(): Promise<void> {
    const now = performance.now();
    if (now - this.renewedAt < this.leaseMs / 3) return;
    if (!(await this.store.renew(this.id, this.holder, this.leaseMs))) throw this.lost();
    this.renewedAt = now;
  }

  async keep(hasher: UploadHasher | undefined, size: number, persist: boolean): Promise<void> {
    this.known = hasher === undefined ? undefined : { size, hasher };
    if (!persist) return;
    const state = { size, hashState: hasher?.save() };
    if (!(await this.store.save(this.id, this.holder, this.saved.size, state, true))) throw this.lost();
    this.released = true;
  }

  drop(): void {
    this.known = undefined;
  }

  async digest(size: number): Promise<string | undefined> {
    const hasher = await this.load(size);
    this.known = undefined;
    return hasher?.digest();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.store.release(this.id, this.holder);
  }

  /** The hash after exactly `size` bytes, when known. A state this hash-wasm cannot load counts as none. */
  private async load(size: number): Promise<UploadHasher | undefined> {
    const known = this.known;
    if (known === undefined || known.size !== size) return undefined;
    if (known.hasher !== undefined) return known.hasher;
    try {
      known.hasher = await ResumableHasher.create(known.state);
      return known.hasher;
    } catch {
      return undefined;
    }
  }

  private lost(): UploadRangeError {
    return new UploadRangeError(this.saved.size, 'the upload was taken over by another request');
  }
}
