/**
 * Manifests of mirrored repositories (after distribution's registry/proxy/proxymanifeststore.go).
 * By digest: cached for good once fetched. By tag: served from the cache while younger than the
 * upstream's TTL, then revalidated with one HEAD (refetched only when the tag moved), and served
 * from the cache when the upstream cannot answer (a log line and a metric say so). An index is
 * cached alone: its platforms' manifests and blobs are fetched when a client asks for them.
 * Pushes to a mirrored name are refused; other repositories go straight to the local service.
 */
import type { AccessFilter } from '../auth/visibility.ts';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { BlobRecord, ManifestRecord, Page } from '../meta/store.ts';
import { readAtMost } from '../registry/body.ts';
import { digestOf } from '../registry/digest.ts';
import { ManifestInvalidError, ManifestUnknownError, NameUnknownError, UnsupportedError, UpstreamUnavailableError } from '../registry/errors.ts';
import {
  MANIFEST_SIZE_LIMIT,
  platformSubstitute,
  type ManifestStore,
  type PushedManifest,
  type ReferrersIndex,
  type StoredManifest,
} from '../registry/manifests.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../registry/media-types.ts';
import { parseDigest, parseReference } from '../registry/reference.ts';
import type { LocalServices } from '../registry/registry.ts';
import type { Claim, PullThroughDeps, UpstreamRouter } from './routing.ts';
import type { MirrorStats } from './stats.ts';
import { upstreamError, type UpstreamClient } from './upstream.ts';

/** Every manifest type berth stores: what the client gets is negotiated locally. */
const ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

export class PullThroughManifests implements ManifestStore {
  /** `repo\0tag` -> when the cached tag was last confirmed by the upstream. */
  private readonly validated = new LRUCache<string, number>({ max: 100_000 });
  /** Upstream fetches and revalidations in progress, by `repo\0reference`. */
  private readonly pending = new Map<string, Promise<StoredManifest>>();

  private readonly local: LocalServices;
  private readonly router: UpstreamRouter;
  private readonly client: (upstream: string) => UpstreamClient;
  private readonly stats: MirrorStats;
  private readonly log: Logger;
  private readonly onFetched: PullThroughDeps['onManifestFetched'];

  constructor(
    deps: PullThroughDeps,
    /** Told of the blobs each fetched manifest references (PullThroughBlobs.expect). */
    private readonly onBlobsSeen: (repo: string, blobs: readonly BlobRecord[]) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    ({ local: this.local, router: this.router, client: this.client, stats: this.stats, log: this.log, onManifestFetched: this.onFetched } = deps);
  }

  async put(repo: string, reference: string, content: Buffer, contentType: string | undefined): Promise<PushedManifest> {
    const claim = this.router.claim(repo);
    if (claim !== undefined) {
      throw new UnsupportedError(`${repo} is mirrored from upstream ${claim.route.name}; push to a name no upstream claims`, {
        upstream: claim.route.name,
      });
    }
    return this.local.manifests.put(repo, reference, content, contentType);
  }

  async stat(repo: string, reference: string): Promise<ManifestRecord> {
    if (this.router.claim(repo) === undefined) return this.local.manifests.stat(repo, reference);
    return (await this.get(repo, reference)).record;
  }

  async get(repo: string, reference: string): Promise<StoredManifest> {
    const claim = this.router.claim(repo);
    if (claim === undefined) return this.local.manifests.get(repo, reference);
    const ref = parseReference(reference);
    const cached = await this.cached(repo, reference);
    const upstream = claim.route.name;
    if (cached !== undefined && (ref.kind === 'digest' || this.fresh(repo, ref.tag, claim))) {
      this.stats.hit(upstream, 'manifest', cached.content.length);
      return cached;
    }
    try {
      const stored = await this.shared(`${repo}\0${reference}`, () =>
        ref.kind === 'tag' && cached !== undefined ? this.revalidate(claim, repo, ref.tag, cached) : this.fetch(claim, repo, reference),
      );
      if (stored === cached) this.stats.hit(upstream, 'manifest', cached.content.length);
      else this.stats.miss(upstream, 'manifest');
      return stored;
    } catch (e) {
      if (!(e instanceof UpstreamUnavailableError)) throw e;
      if (cached === undefined) {
        this.stats.error(upstream, 'manifest', e.reason);
        throw e;
      }
      this.stats.stale(upstream, 'manifest', e.reason);
      this.log.warn({ upstream, repository: repo, reference, reason: e.reason }, 'mirror: upstream unavailable, serving the cached tag');
      return cached;
    }
  }

  async getAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<StoredManifest> {
    if (this.router.claim(repo) === undefined) return this.local.manifests.getAccepted(repo, reference, accepted);
    const stored = await this.get(repo, reference);
    const child = platformSubstitute(stored, accepted);
    return child === undefined ? stored : this.get(repo, child);
  }

  async statAccepted(repo: string, reference: string, accepted: ReadonlySet<string>): Promise<ManifestRecord> {
    if (this.router.claim(repo) === undefined) return this.local.manifests.statAccepted(repo, reference, accepted);
    return (await this.getAccepted(repo, reference, accepted)).record;
  }

  /** Every argument goes through: garbage collection's condition must reach the local store. */
  delete(...args: Parameters<ManifestStore['delete']>): Promise<void> {
    const [repo, reference] = args;
    if (this.router.claim(repo) !== undefined) this.validated.delete(`${repo}\0${reference}`);
    return this.local.manifests.delete(...args);
  }

  /** A mirrored repository's tags are the upstream's; the cached ones when it cannot answer. */
  async tags(repo: string, page: Page): Promise<string[]> {
    const claim = this.router.claim(repo);
    if (claim === undefined) return this.local.manifests.tags(repo, page);
    const query = new URLSearchParams();
    if (page.n !== undefined) query.set('n', String(page.n));
    if (page.last !== undefined) query.set('last', page.last);
    const upstream = claim.route.name;
    try {
      const res = await this.client(upstream).request('GET', `${claim.remote}/tags/list${query.size > 0 ? `?${query}` : ''}`, {
        repository: claim.remote,
      });
      const body = res.status === 200 ? await readAtMost(res.body, 16 * 1024 * 1024) : (res.body.resume(), undefined);
      if (res.status !== 200) throw upstreamError(upstream, res.status, () => new NameUnknownError(repo));
      const tags = body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as { tags?: unknown }).tags;
      if (!Array.isArray(tags)) throw new UpstreamUnavailableError(upstream, 'the upstream sent no tag list');
      return tags.filter((t): t is string => typeof t === 'string').sort();
    } catch (e) {
      if (!(e instanceof UpstreamUnavailableError) && !(e instanceof SyntaxError)) throw e;
      const reason = e instanceof UpstreamUnavailableError ? e.reason : 'the upstream sent a tag list that is not JSON';
      this.stats.stale(upstream, 'manifest', reason);
      return this.local.manifests.tags(repo, page);
    }
  }

  catalog(page: Page, visible?: AccessFilter): Promise<string[]> {
    return this.local.manifests.catalog(page, visible);
  }

  referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersIndex> {
    return this.local.manifests.referrers(repo, digest, artifactType);
  }

  private async cached(repo: string, reference: string): Promise<StoredManifest | undefined> {
    try {
      return await this.local.manifests.get(repo, reference);
    } catch (e) {
      if (e instanceof ManifestUnknownError) return undefined;
      throw e;
    }
  }

  private fresh(repo: string, tag: string, claim: Claim): boolean {
    const at = this.validated.get(`${repo}\0${tag}`);
    return at !== undefined && this.now() - at < claim.route.ttlMs;
  }

  /** One HEAD: the cached manifest when the tag still names it, else the tag fetched anew. */
  private async revalidate(claim: Claim, repo: string, tag: string, cached: StoredManifest): Promise<StoredManifest> {
    const res = await this.client(claim.route.name).request('HEAD', `${claim.remote}/manifests/${tag}`, {
      repository: claim.remote,
      accept: ACCEPT,
    });
    res.body.resume();
    if (res.status !== 200) throw upstreamError(claim.route.name, res.status, () => new ManifestUnknownError(tag));
    if (res.headers['docker-content-digest'] === cached.record.digest) {
      this.validated.set(`${repo}\0${tag}`, this.now());
      return cached;
    }
    return this.fetch(claim, repo, tag);
  }

  /** GET from the upstream, check the bytes against the digest, cache them (with the tag). */
  private async fetch(claim: Claim, repo: string, reference: string): Promise<StoredManifest> {
    const upstream = claim.route.name;
    const res = await this.client(upstream).request('GET', `${claim.remote}/manifests/${reference}`, { repository: claim.remote, accept: ACCEPT });
    if (res.status !== 200) {
      res.body.resume();
      throw upstreamError(upstream, res.status, () => new ManifestUnknownError(reference));
    }
    const content = await readAtMost(res.body, MANIFEST_SIZE_LIMIT);
    if (content === undefined) throw new UpstreamUnavailableError(upstream, `the manifest is larger than ${MANIFEST_SIZE_LIMIT} bytes`);
    this.stats.fetched(upstream, content.length);
    const ref = parseReference(reference);
    const header = res.headers['docker-content-digest'];
    const expected = ref.kind === 'digest' ? ref.digest : typeof header === 'string' ? header : undefined;
    if (expected !== undefined && digestOf(content, parseDigest(expected).algorithm) !== expected) {
      throw new UpstreamUnavailableError(upstream, `the manifest received does not match ${expected}`);
    }
    const stored = await this.storeFetched(upstream, repo, content, res.headers['content-type'] ?? '', ref.kind === 'tag' ? ref.tag : undefined);
    this.onBlobsSeen(repo, stored.blobs);
    const { record } = stored;
    await this.onFetched?.({ repository: repo, record, content, tag: ref.kind === 'tag' ? ref.tag : undefined });
    if (ref.kind === 'tag') this.validated.set(`${repo}\0${ref.tag}`, this.now());
    return { record, content };
  }

  /**
   * Cache what the upstream sent. A manifest berth refuses (nested too deep, not a manifest) is the
   * upstream's fault, not the client's: 503 UNAVAILABLE (a cached copy of the tag is served instead), never 400.
   */
  private async storeFetched(upstream: string, repo: string, content: Buffer, contentType: string, tag: string | undefined): Promise<{ record: ManifestRecord; blobs: BlobRecord[] }> {
    try {
      return await this.local.manifests.storeFetched(repo, content, contentType, tag);
    } catch (e) {
      if (e instanceof ManifestInvalidError) throw new UpstreamUnavailableError(upstream, `the upstream sent a manifest berth refuses: ${e.message}`);
      throw e;
    }
  }

  /** Concurrent asks for the same reference share one upstream exchange. */
  private shared(key: string, run: () => Promise<StoredManifest>): Promise<StoredManifest> {
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = run().finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }
}
