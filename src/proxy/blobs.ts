/**
 * Blobs of mirrored repositories: served from the local store when cached, else fetched from the
 * upstream once (however many clients ask at the same time), streamed to the clients while it is
 * written, verified and committed (blob-fetch.ts). Repositories no upstream claims go straight to
 * the local service. After distribution's registry/proxy/proxyblobstore.go.
 */
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

export class PullThroughBlobs implements BlobStore {
  /** Transfers in progress, by digest: one per blob whoever asks. */
  private readonly inflight = new Map<string, Promise<BlobFetch>>();
  /** Upstream HEADs in progress, by upstream, repository and digest. */
  private readonly heads = new Map<string, Promise<BlobRecord>>();
  /** Records this service's stat returned for mirrored repositories -> their repository, so open() knows where to fetch from. */
  private readonly mirrored = new WeakMap<BlobRecord, string>();
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
      return this.remember({ ...(await this.local.blobs.stat(repo, digest)) }, repo);
    } catch (e) {
      if (!(e instanceof BlobUnknownError)) throw e;
    }
    parseDigest(digest);
    // Cached through another repository: the same bytes, whatever the name.
    const known = await this.local.meta.getBlob(digest);
    if (known !== undefined && (await this.local.blobs.bytesPresent(digest))) {
      await this.local.meta.linkBlob(repo, known);
      return this.remember({ ...known }, repo);
    }
    const inflight = await this.inflight.get(digest)?.catch(() => undefined);
    if (inflight !== undefined) return this.remember({ digest, size: inflight.size }, repo);
    const size = this.expected.get(`${repo}\0${digest}`);
    if (size !== undefined) return this.remember({ digest, size }, repo);
    return this.remember({ ...(await this.head(claim, digest)) }, repo);
  }

  /** Blobs a fetched manifest references, with their sizes (the upstream's GET still decides whether they exist). */
  expect(repo: string, blobs: readonly BlobRecord[]): void {
    for (const b of blobs) this.expected.set(`${repo}\0${b.digest}`, b.size);
  }

  async open(blob: BlobRecord, range?: BlobRange): Promise<OpenedBlob> {
    const repo = this.mirrored.get(blob);
    const claim = repo === undefined ? undefined : this.router.claim(repo);
    if (repo === undefined || claim === undefined) return this.local.blobs.open(blob, range);
    try {
      const opened = await this.local.blobs.open(blob, range);
      this.stats.hit(claim.route.name, 'blob', range === undefined ? blob.size : range.end - range.start + 1);
      return opened;
    } catch (e) {
      if (!(e instanceof BlobUnknownError)) throw e;
    }
    return this.pull(claim, repo, blob, range);
  }

  async openFile(blob: BlobRecord, range?: BlobRange): Promise<BlobFile | undefined> {
    const repo = this.mirrored.get(blob);
    const claim = repo === undefined ? undefined : this.router.claim(repo);
    if (claim === undefined) return this.local.blobs.openFile(blob, range);
    try {
      const file = await this.local.blobs.openFile(blob, range);
      if (file !== undefined) this.stats.hit(claim.route.name, 'blob', file.length);
      return file;
    } catch (e) {
      if (e instanceof BlobUnknownError) return undefined; // not cached yet: open() fetches it
      throw e;
    }
  }

  redirectURL(digest: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return this.local.blobs.redirectURL(digest, method);
  }

  mount(repo: string, digest: string, from?: string): Promise<BlobRecord | undefined> {
    return this.local.blobs.mount(repo, digest, from);
  }

  delete(repo: string, digest: string): Promise<void> {
    return this.local.blobs.delete(repo, digest);
  }

  bytesPresent(digest: string): Promise<boolean> {
    return this.local.blobs.bytesPresent(digest);
  }

  private remember(blob: BlobRecord, repo: string): BlobRecord {
    this.mirrored.set(blob, repo);
    return blob;
  }

  /** Join (or start) the blob's transfer: stream it as it arrives, or wait for it and read the cached copy. */
  private async pull(claim: Claim, repo: string, blob: BlobRecord, range: BlobRange | undefined): Promise<OpenedBlob> {
    const upstream = claim.route.name;
    this.stats.miss(upstream, 'blob');
    const fetch = await this.fetchOf(claim, repo, blob);
    const stream = range === undefined ? fetch.subscribe(repo) : undefined;
    if (stream !== undefined) return { ...blob, stream };
    // Bytes already went out (or a range was asked): the cached copy serves it once complete.
    fetch.linkWhenDone(repo);
    await fetch.done;
    return this.local.blobs.open(blob, range);
  }

  private fetchOf(claim: Claim, repo: string, blob: BlobRecord): Promise<BlobFetch> {
    const existing = this.inflight.get(blob.digest);
    if (existing !== undefined) return existing;
    const started = this.startFetch(claim, repo, blob);
    this.inflight.set(blob.digest, started);
    // Counted and logged once per transfer, however many clients it had.
    const failed = (e: unknown) => {
      forget();
      if (!(e instanceof UpstreamUnavailableError)) return;
      this.stats.error(claim.route.name, 'blob', e.reason);
      this.log.warn({ upstream: claim.route.name, repository: repo, digest: blob.digest, reason: e.reason }, 'mirror: blob fetch failed');
    };
    const forget = () => {
      if (this.inflight.get(blob.digest) === started) this.inflight.delete(blob.digest);
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
      link: (other, b) => this.local.meta.linkBlob(other, b),
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
