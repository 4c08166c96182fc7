/**
 * Blobs of mirrored repositories: served from the local store when cached, else fetched from the
 * upstream once (however many clients ask at the same time), streamed to the clients while it is
 * written, verified and committed (blob-fetch.ts). Repositories no upstream claims go straight to
 * the local service. After distribution's registry/proxy/proxyblobstore.go.
 *
 * A mirrored name serves only what its upstream has under that name. Bytes the registry holds for
 * another repository (a private push, another mirrored name, another upstream) are reused only once
 * the upstream confirms the digest under this name: its answer to a HEAD, or the GET that fetches
 * the bytes. A manifest fetched from the upstream that lists a digest is no confirmation (whoever
 * pushed it upstream wrote that list), so a blob whose size it gave is fetched without a HEAD
 * first only when no local copy or transfer of it exists. Otherwise a mirrored name would serve,
 * and answer HEAD for, any digest of the registry to whoever may pull it.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { BlobRecord } from '../meta/store.ts';
import type { BlobFile, BlobRange, BlobStore, OpenedBlob } from '../registry/blobs.ts';
import { BlobUnknownError, UpstreamUnavailableError } from '../registry/errors.ts';
import { parseDigest } from '../registry/reference.ts';
import type { LocalServices } from '../registry/registry.ts';
import { BlobFetch } from './blob-fetch.ts';
import type { Claim, PullThroughDeps, UpstreamRouter } from './routing.ts';
import type { MirrorStats } from './stats.ts';
import { upstreamError, type UpstreamClient } from './upstream.ts';

/**
 * Why a mirrored repository may have a blob: 'linked', it is linked to the repository (its local
 * bytes serve it); 'confirmed', the upstream confirmed it under the repository's name (fetch it,
 * or join a transfer of it for another repository); 'expected', a fetched manifest named it (only
 * the repository's own GET may bring it).
 */
type Standing = 'linked' | 'confirmed' | 'expected';

/** A blob record stat() returned for a mirrored repository. */
interface Mirrored {
  repo: string;
  claim: Claim;
  standing: Standing;
}

/** A transfer in progress, and the repository whose GET started it. */
interface Transfer {
  repo: string;
  size: number;
  fetch: Promise<BlobFetch>;
}

export class PullThroughBlobs implements BlobStore {
  /** Transfers in progress, by digest: one per blob, joined by the repositories entitled to it. */
  private readonly inflight = new Map<string, Transfer>();
  /** Upstream HEADs in progress, by upstream, repository and digest. */
  private readonly heads = new Map<string, Promise<BlobRecord>>();
  /** Records this service's stat returned for mirrored repositories, so open() knows where to fetch from and what it may serve. */
  private readonly mirrored = new WeakMap<BlobRecord, Mirrored>();
  /** `repo\0digest` -> size, from the descriptors of manifests fetched: a cold blob's GET needs no HEAD first. */
  private readonly expected = new LRUCache<string, number>({ max: 200_000 });

  private readonly local: LocalServices;
  private readonly router: UpstreamRouter;
  private readonly client: (upstream: string) => UpstreamClient;
  private readonly stats: MirrorStats;
  private readonly log: Logger;

  constructor(deps: PullThroughDeps) {
    ({ local: this.local, router: this.router, client: this.client, stats: this.stats, log: this.log } = deps);
  }

  async stat(repo: string, digest: string): Promise<BlobRecord> {
    const claim = this.router.claim(repo);
    if (claim === undefined) return this.local.blobs.stat(repo, digest);
    try {
      return this.remember({ ...(await this.local.blobs.stat(repo, digest)) }, { repo, claim, standing: 'linked' });
    } catch (e) {
      if (!(e instanceof BlobUnknownError)) throw e;
    }
    parseDigest(digest);
    const transfer = this.inflight.get(digest);
    if (transfer?.repo === repo) {
      // This repository's own GET answered: the upstream has it here.
      const fetch = await transfer.fetch.catch(() => undefined);
      if (fetch !== undefined) return this.remember({ digest, size: fetch.size }, { repo, claim, standing: 'confirmed' });
    }
    const size = this.expected.get(`${repo}\0${digest}`);
    if (size !== undefined && transfer === undefined && !(await this.local.blobs.bytesPresent(digest))) {
      return this.remember({ digest, size }, { repo, claim, standing: 'expected' });
    }
    // Held here for another repository, or being fetched for one: only the upstream can say this name has it.
    const upstream = await this.head(claim, digest);
    const known = await this.local.meta.getBlob(digest);
    if (known?.size === upstream.size && (await this.local.blobs.bytesPresent(digest))) {
      const linked = await this.local.meta.linkExisting(repo, digest);
      if (linked !== undefined) return this.remember({ ...linked }, { repo, claim, standing: 'linked' });
    }
    return this.remember({ ...upstream }, { repo, claim, standing: 'confirmed' });
  }

  /** Blobs a fetched manifest references, with their sizes (the upstream's GET still decides whether they exist). */
  expect(repo: string, blobs: readonly BlobRecord[]): void {
    for (const b of blobs) this.expected.set(`${repo}\0${b.digest}`, b.size);
  }

  async open(blob: BlobRecord, range?: BlobRange): Promise<OpenedBlob> {
    const mirrored = this.mirrored.get(blob);
    if (mirrored === undefined) return this.local.blobs.open(blob, range);
    if (mirrored.standing === 'linked') {
      try {
        const opened = await this.local.blobs.open(blob, range);
        this.stats.hit(mirrored.claim.route.name, 'blob', range === undefined ? blob.size : range.end - range.start + 1);
        return opened;
      } catch (e) {
        if (!(e instanceof BlobUnknownError)) throw e;
      }
    }
    return this.pull(mirrored, blob, range);
  }

  async openFile(blob: BlobRecord, range?: BlobRange): Promise<BlobFile | undefined> {
    const mirrored = this.mirrored.get(blob);
    if (mirrored === undefined) return this.local.blobs.openFile(blob, range);
    // Not this repository's yet: from a transfer past its first bytes, else open() fetches it.
    if (mirrored.standing !== 'linked') return this.fileOfTransfer(mirrored, blob, range);
    try {
      const file = await this.local.blobs.openFile(blob, range);
      if (file !== undefined) this.stats.hit(mirrored.claim.route.name, 'blob', file.length);
      return file;
    } catch (e) {
      if (e instanceof BlobUnknownError) return undefined; // the bytes are gone: open() fetches them again
      throw e;
    }
  }

  redirectURL(blob: BlobRecord, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return this.local.blobs.redirectURL(blob, method);
  }

  /**
   * Nothing is mounted into a mirrored name: it holds what its upstream has there (the client
   * uploads instead). Mounting from one takes only what is linked to it, which its upstream confirmed.
   */
  async mount(repo: string, digest: string, from?: string): Promise<BlobRecord | undefined> {
    if (this.router.claim(repo) !== undefined) return undefined;
    return this.local.blobs.mount(repo, digest, from);
  }

  delete(repo: string, digest: string): Promise<void> {
    return this.local.blobs.delete(repo, digest);
  }

  bytesPresent(digest: string): Promise<boolean> {
    return this.local.blobs.bytesPresent(digest);
  }

  private remember(blob: BlobRecord, mirrored: Mirrored): BlobRecord {
    this.mirrored.set(blob, mirrored);
    return blob;
  }

  /** Join (or start) the blob's transfer: stream it as it arrives, or wait for it and read the cached copy. */
  private async pull(mirrored: Mirrored, blob: BlobRecord, range: BlobRange | undefined): Promise<OpenedBlob> {
    const { claim, repo } = mirrored;
    this.stats.miss(claim.route.name, 'blob');
    const fetch = await this.fetchOf(mirrored, blob);
    const stream = range === undefined ? fetch.subscribe(repo) : undefined;
    if (stream !== undefined) return { ...blob, stream };
    // Bytes already went out (or a range was asked): the verified bytes serve it while they are
    // committed, else the cached copy once complete.
    fetch.linkWhenDone(repo);
    const verified = await fetch.openVerified(range);
    if (verified !== undefined) return { ...blob, stream: fileStream(verified) };
    await fetch.done;
    return this.local.blobs.open(blob, range);
  }

  /**
   * The blob's file when a transfer this repository may join has already sent bytes out: the
   * verified bytes while the commit is under way, else the cached blob once it is done (a
   * client that came too late to stream along, such as a second pull right after the first). A
   * file, not a stream: the kernel sends it. Undefined when no transfer has started: open() joins
   * or starts one.
   */
  private async fileOfTransfer(mirrored: Mirrored, blob: BlobRecord, range: BlobRange | undefined): Promise<BlobFile | undefined> {
    const transfer = this.joinable(mirrored, blob);
    const fetch = transfer === undefined ? undefined : await transfer.fetch.catch(() => undefined);
    if (fetch === undefined || !fetch.started) return undefined;
    fetch.linkWhenDone(mirrored.repo);
    const route = mirrored.claim.route.name;
    const verified = await fetch.openVerified(range);
    if (verified !== undefined) {
      this.stats.hit(route, 'blob', verified.length);
      return verified;
    }
    await fetch.done;
    const file = await this.local.blobs.openFile(blob, range);
    if (file !== undefined) this.stats.hit(route, 'blob', file.length);
    return file;
  }

  /** The transfer in progress that this repository may read: it started it, or the upstream confirmed the blob under its name. */
  private joinable({ repo, standing }: Mirrored, blob: BlobRecord): Transfer | undefined {
    const existing = this.inflight.get(blob.digest);
    if (existing !== undefined && existing.size === blob.size && (existing.repo === repo || standing !== 'expected')) return existing;
    return undefined;
  }

  /**
   * The transfer to read the blob from: the one in progress when this repository may join it (it
   * started it, or the blob is linked here or confirmed here by the upstream), else a new one, which
   * later asks share unless another transfer of the digest is in progress.
   */
  private fetchOf(mirrored: Mirrored, blob: BlobRecord): Promise<BlobFetch> {
    const joined = this.joinable(mirrored, blob);
    if (joined !== undefined) return joined.fetch;
    const { claim, repo } = mirrored;
    const existing = this.inflight.get(blob.digest);
    const started = this.startFetch(claim, repo, blob);
    const transfer: Transfer = { repo, size: blob.size, fetch: started };
    if (existing === undefined) this.inflight.set(blob.digest, transfer);
    // Counted and logged once per transfer, however many clients it had.
    const failed = (e: unknown) => {
      forget();
      if (!(e instanceof UpstreamUnavailableError)) return;
      this.stats.error(claim.route.name, 'blob', e.reason);
      this.log.warn({ upstream: claim.route.name, repository: repo, digest: blob.digest, reason: e.reason }, 'mirror: blob fetch failed');
    };
    const forget = () => {
      if (this.inflight.get(blob.digest) === transfer) this.inflight.delete(blob.digest);
    };
    started.then((f) => f.done.then(forget, failed), failed);
    return started;
  }

  private async startFetch(claim: Claim, repo: string, blob: BlobRecord): Promise<BlobFetch> {
    const upstream = claim.route.name;
    const res = await this.client(upstream).request('GET', `${claim.remote}/blobs/${blob.digest}`, { repository: claim.remote });
    if (res.status !== 200) {
      res.body.resume();
      throw upstreamError(upstream, res.status, () => new BlobUnknownError(blob.digest));
    }
    const declared = Number(res.headers['content-length'] ?? blob.size);
    if (declared !== blob.size) {
      res.body.destroy();
      throw new UpstreamUnavailableError(upstream, `the upstream sends ${declared} bytes for a blob of ${blob.size}`);
    }
    return new BlobFetch({
      digest: blob.digest,
      size: blob.size,
      repo,
      upstream,
      body: res.body,
      uploads: this.local.uploads,
      link: async (other, b) => void (await this.local.meta.linkExisting(other, b.digest)),
      onFetched: (n) => this.stats.fetched(upstream, n),
    });
  }

  /** The blob's size from the upstream (one HEAD, shared by concurrent asks). */
  private head(claim: Claim, digest: string): Promise<BlobRecord> {
    const key = `${claim.route.name}\0${claim.remote}\0${digest}`;
    let pending = this.heads.get(key);
    if (pending === undefined) {
      pending = this.headOnce(claim, digest).finally(() => this.heads.delete(key));
      this.heads.set(key, pending);
    }
    return pending;
  }

  private async headOnce(claim: Claim, digest: string): Promise<BlobRecord> {
    const upstream = claim.route.name;
    try {
      const res = await this.client(upstream).request('HEAD', `${claim.remote}/blobs/${digest}`, { repository: claim.remote });
      res.body.resume();
      const size = Number(res.headers['content-length']);
      if (res.status !== 200) throw upstreamError(upstream, res.status, () => new BlobUnknownError(digest));
      if (!Number.isSafeInteger(size) || size < 0) throw new UpstreamUnavailableError(upstream, 'the upstream gave no size for the blob');
      return { digest, size };
    } catch (e) {
      if (e instanceof UpstreamUnavailableError) this.stats.error(upstream, 'blob', e.reason);
      throw e;
    }
  }
}

/** A stream of an open file's range; the file is closed when the stream is. */
function fileStream(file: BlobFile): Readable {
  const stream = createReadStream('', { fd: file.fd, start: file.offset, end: file.offset + file.length - 1, autoClose: false, highWaterMark: 1024 * 1024 });
  stream.once('close', () => void file.close().catch(() => undefined));
  return stream;
}
