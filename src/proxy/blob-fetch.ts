/**
 * One upstream transfer of a blob into the local store, streamed at the same time to every
 * client that joined it (distribution's proxy fetches a blob twice, once to store and once to
 * serve; this fetches it once).
 *
 * The bytes go through the registry's own upload machinery (an upload session, hashed while
 * written, digest verified, moved into place, linked): a transfer that breaks, or bytes that do
 * not match the digest, leave nothing cached. Clients never receive a complete wrong blob: the
 * last chunk is held back until the digest is verified, and on any failure their response is cut
 * short instead.
 *
 * Once verified, the bytes are served from the upload's own file while the commit makes them
 * durable and moves them into place (openVerified): a client that asks in that moment gets the
 * blob from the disk at once (sendfile), not after the flush.
 *
 * Memory stays bounded whatever the blob's size: the upstream is read only as fast as the disk
 * and the slowest client take it (a window per client), nothing is buffered whole. A client that
 * arrives once bytes have gone out waits for the transfer to finish and reads the cached blob.
 */
import { Readable } from 'node:stream';
import type { BlobRecord } from '../meta/store.ts';
import type { BlobFile, BlobRange } from '../registry/blobs.ts';
import { PathNotFoundError } from '../storage/driver.ts';
import type { UploadService } from '../registry/uploads.ts';
import { RegistryError, UpstreamUnavailableError } from '../registry/errors.ts';

/** Bytes gathered from the upstream before they are passed on. */
const COALESCE = 1024 * 1024;
/** Bytes queued for one client before the transfer waits for it. */
const CLIENT_WINDOW = 4 * 1024 * 1024;

class Subscriber {
  readonly stream: Readable;
  private wake: (() => void) | undefined;

  constructor(onGone: (s: Subscriber) => void) {
    this.stream = new Readable({
      highWaterMark: CLIENT_WINDOW,
      read: () => this.wake?.(),
      destroy: (err, cb) => {
        onGone(this);
        this.wake?.();
        cb(err);
      },
    });
  }

  /** Queue a chunk; resolves when the client can take more (or has gone). */
  async push(chunk: Buffer): Promise<void> {
    if (this.stream.destroyed || this.stream.push(chunk)) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = undefined;
  }

  end(): void {
    if (!this.stream.destroyed) this.stream.push(null);
  }

  fail(err: Error): void {
    this.stream.destroy(err);
  }
}

export interface BlobFetchOptions {
  digest: string;
  size: number;
  /** The repository the blob is cached into (others that join are linked after). */
  repo: string;
  upstream: string;
  body: Readable;
  uploads: UploadService;
  /** Link the finished blob into another repository that asked for it meanwhile. */
  link(repo: string, blob: BlobRecord): Promise<void>;
  /** Bytes received from the upstream, told once at the end (success or not). */
  onFetched(bytes: number): void;
}

export class BlobFetch {
  readonly digest: string;
  readonly size: number;
  /** Settles when the blob is committed and linked, or the transfer failed (nothing cached). */
  readonly done: Promise<BlobRecord>;
  private readonly subscribers = new Set<Subscriber>();
  private readonly alsoLink = new Set<string>();
  /** Bytes have gone out to clients: a new client can no longer start from the first byte. */
  private forwarding = false;
  /** The upload session whose file holds every byte, verified, until the commit moves it (openVerified). */
  private verifiedSession: string | undefined;

  /** Starts the transfer; callers subscribe in the same tick to receive it from the first byte. */
  constructor(private readonly opts: BlobFetchOptions) {
    this.digest = opts.digest;
    this.size = opts.size;
    this.done = this.run();
    // The outcome is also delivered through subscribers and to whoever awaits done.
    this.done.catch(() => undefined);
  }

  /**
   * A stream of the whole blob as it arrives, or undefined when bytes have already gone out
   * (wait for done, then read the cached blob). `repo` is linked to the blob once it is cached.
   */
  subscribe(repo: string): Readable | undefined {
    if (this.forwarding) return undefined;
    if (repo !== this.opts.repo) this.alsoLink.add(repo);
    const s = new Subscriber((gone) => this.subscribers.delete(gone));
    this.subscribers.add(s);
    return s.stream;
  }

  /** Bytes have gone out: subscribe() no longer gives the whole blob. */
  get started(): boolean {
    return this.forwarding;
  }

  /**
   * The blob's bytes, verified, from the upload's file while its commit is under way (undefined
   * before the bytes are verified, once the commit is done or failed, or when storage keeps no
   * local files: wait for done). The caller closes it.
   */
  async openVerified(range?: BlobRange): Promise<BlobFile | undefined> {
    const id = this.verifiedSession;
    if (id === undefined) return undefined;
    const file = await this.opts.uploads.openData(id).catch((e: unknown) => {
      if (e instanceof PathNotFoundError) return undefined; // committed (moved) or discarded meanwhile
      throw e;
    });
    if (file === undefined) return undefined;
    if (file.size !== this.size) {
      await file.close();
      return undefined;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? this.size - 1;
    return { fd: file.fd, offset: start, length: end - start + 1, close: () => file.close() };
  }

  /** Link `repo` to the blob once it is cached (a client of another repository waiting for it). */
  linkWhenDone(repo: string): void {
    if (repo !== this.opts.repo) this.alsoLink.add(repo);
  }

  private async forward(chunk: Buffer): Promise<void> {
    this.forwarding = true;
    await Promise.all([...this.subscribers].map((s) => s.push(chunk)));
  }

  private async run(): Promise<BlobRecord> {
    const { uploads, repo, body, size } = this.opts;
    let received = 0;
    let held: Buffer | undefined;
    // Socket reads of 64 KiB are gathered into chunks of COALESCE bytes: one write to the disk and
    // to each client per chunk, not per read (that per-chunk work bounded the transfer). The
    // body is read as it is: the socket's own buffer keeps the upstream sending meanwhile.
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const relay = async function* (this: BlobFetch): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        received += buf.length;
        if (received > size) throw new Error(`the upstream sent more than the ${size} bytes it declared`);
        gathered.push(buf);
        gatheredBytes += buf.length;
        if (gatheredBytes < COALESCE && received < size) continue;
        const next = gathered.length === 1 ? buf : Buffer.concat(gathered, gatheredBytes);
        gathered = [];
        gatheredBytes = 0;
        if (held !== undefined) await this.forward(held);
        held = next;
        yield next;
      }
      if (received !== size) throw new Error(`the transfer ended after ${received} of ${size} bytes`);
    }.call(this);
    let blob: BlobRecord;
    try {
      // Let the clients that asked at the same moment subscribe before the first byte is read.
      await new Promise((resolve) => setImmediate(resolve));
      const session = await uploads.start(repo);
      try {
        await uploads.append(repo, session.id, Readable.from(relay, { objectMode: false }), undefined, {
          deferSync: true,
          // The bytes are verified: the clients get the last of them without waiting for the disk.
          beforeCommit: async (sha256) => {
            if (sha256 === undefined || held === undefined) return;
            if (sha256 !== this.digest) throw new UpstreamUnavailableError(this.opts.upstream, `the bytes received do not match ${this.digest}`);
            this.verifiedSession = session.id;
            await this.release(held);
            held = undefined;
          },
        });
        blob = await uploads.finish(repo, session.id, this.digest);
      } catch (e) {
        await uploads.cancel(repo, session.id).catch(() => undefined);
        throw e;
      }
      this.verifiedSession = undefined;
      for (const other of this.alsoLink) await this.opts.link(other, blob);
    } catch (e) {
      this.verifiedSession = undefined;
      body.destroy();
      const err = this.failure(e);
      for (const s of this.subscribers) s.fail(err);
      throw err;
    } finally {
      this.opts.onFetched(received);
    }
    if (held !== undefined) await this.release(held);
    return blob;
  }

  /** Send the last chunk, the blob verified, and end every client's stream. */
  private async release(last: Buffer): Promise<void> {
    await this.forward(last);
    for (const s of this.subscribers) s.end();
  }

  /** What the transfer's failure is to a client: the upstream's fault unless it is already a registry error. */
  private failure(e: unknown): Error {
    if (e instanceof UpstreamUnavailableError) return e;
    if (e instanceof RegistryError && e.code === 'BERTH_DIGEST_INVALID') {
      return new UpstreamUnavailableError(this.opts.upstream, `the bytes received do not match ${this.digest}`);
    }
    if (e instanceof RegistryError) return e;
    return new UpstreamUnavailableError(this.opts.upstream, `blob transfer failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
