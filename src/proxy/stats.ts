/**
 * Per-upstream counters of the mirror, for `berth mirror status`, GET /api/v1/mirror and
 * (through the observer) Prometheus. Counted since the process started.
 */
import type { UpstreamRoute } from './routing.ts';

export type MirrorObject = 'blob' | 'manifest';

/** hit: served from the cache; miss: fetched from the upstream; stale: a tag served from the cache because the upstream was down. */
export type MirrorOutcome = 'hit' | 'miss' | 'stale' | 'error';

export interface MirrorObserver {
  /** One client request for a mirrored object, by outcome. */
  request(upstream: string, object: MirrorObject, outcome: MirrorOutcome): void;
  /** Bytes fetched from the upstream, or served from the cache instead of fetched (saved). */
  bytes(upstream: string, kind: 'fetched' | 'saved', n: number): void;
}

export interface UpstreamStatus {
  name: string;
  url: string;
  prefix: string;
  remoteprefix: string;
  ttlSeconds: number;
  hits: number;
  misses: number;
  /** Tags served from the cache while the upstream could not be reached. */
  staleServed: number;
  errors: number;
  bytesFetched: number;
  bytesSaved: number;
  lastError: { at: string; reason: string } | null;
}

export interface MirrorStatus {
  upstreams: UpstreamStatus[];
}

type Counters = Omit<UpstreamStatus, 'name' | 'url' | 'prefix' | 'remoteprefix' | 'ttlSeconds'>;

export class MirrorStats {
  private readonly counters = new Map<string, Counters>();

  constructor(
    private readonly routes: readonly UpstreamRoute[],
    private readonly observer?: MirrorObserver,
  ) {
    for (const r of routes) {
      this.counters.set(r.name, { hits: 0, misses: 0, staleServed: 0, errors: 0, bytesFetched: 0, bytesSaved: 0, lastError: null });
    }
  }

  hit(upstream: string, object: MirrorObject, bytes: number): void {
    const c = this.of(upstream);
    c.hits++;
    c.bytesSaved += bytes;
    this.observer?.request(upstream, object, 'hit');
    if (bytes > 0) this.observer?.bytes(upstream, 'saved', bytes);
  }

  miss(upstream: string, object: MirrorObject): void {
    this.of(upstream).misses++;
    this.observer?.request(upstream, object, 'miss');
  }

  stale(upstream: string, object: MirrorObject, reason: string): void {
    const c = this.of(upstream);
    c.staleServed++;
    c.lastError = { at: new Date().toISOString(), reason };
    this.observer?.request(upstream, object, 'stale');
  }

  error(upstream: string, object: MirrorObject, reason: string): void {
    const c = this.of(upstream);
    c.errors++;
    c.lastError = { at: new Date().toISOString(), reason };
    this.observer?.request(upstream, object, 'error');
  }

  fetched(upstream: string, bytes: number): void {
    this.of(upstream).bytesFetched += bytes;
    this.observer?.bytes(upstream, 'fetched', bytes);
  }

  status(): MirrorStatus {
    return {
      upstreams: this.routes.map((r) => ({
        name: r.name,
        url: r.url,
        prefix: r.prefix,
        remoteprefix: r.remoteprefix,
        ttlSeconds: r.ttlMs / 1000,
        ...structuredClone(this.of(r.name)),
      })),
    };
  }

  private of(upstream: string): Counters {
    const c = this.counters.get(upstream);
    if (c === undefined) throw new Error(`no upstream named ${upstream}`);
    return c;
  }
}
