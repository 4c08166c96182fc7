/**
 * berth's Prometheus metrics: one Metrics object owns its own prom-client Registry (never the
 * global default one, and nothing is registered on import), so each running registry, and each
 * test, has its own counters. The HTTP layer reports requests through observeRequest; the
 * storage and meta store wrappers (storage-metrics.ts, meta-metrics.ts) report operations; the
 * domain reports uploads and cache lookups. render() produces the text exposition for /metrics.
 *
 * Label values that come from clients are bounded here (method), so a client cannot grow the
 * series count; route names and status codes are bounded by the route table and HTTP itself.
 * The counters bumped on every request are batched (batched-counter.ts); the rest are plain
 * prom-client metrics.
 */
import type { GcObserver } from '../registry/gc.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BatchedCounter } from './batched-counter.ts';

/** Seconds, from 0.1 ms (a cached HEAD) to 10 s (a large blob over a slow disk). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);

export interface RequestObservation {
  /** The route's name from the route table (not the URL: repository names would explode the series). */
  route: string;
  method: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: BatchedCounter<'route' | 'method' | 'status'>;
  private readonly requestDuration: Histogram<'route' | 'method'>;
  private readonly requestBytes: BatchedCounter<'route'>;
  private readonly responseBytes: BatchedCounter<'route'>;
  private readonly uploads: Gauge;
  private readonly storageDuration: Histogram<'driver' | 'operation'>;
  private readonly storageErrors: Counter<'driver' | 'operation' | 'code'>;
  private readonly metaDuration: Histogram<'operation'>;
  private readonly cacheRequests: BatchedCounter<'cache' | 'result'>;
  private readonly authFailures: Counter;
  private readonly gcRuns: Counter;
  private readonly gcDuration: Histogram;
  private readonly gcFreed: Counter;
  private readonly gcBytes: Counter;
  private readonly gcErrors: Counter;
  private readonly mirrorRequests: Counter<'upstream' | 'object' | 'outcome'>;
  private readonly mirrorBytes: Counter<'upstream' | 'kind'>;
  private readonly replicationRuns: Counter<'rule' | 'status'>;
  private readonly replicationImages: Counter<'rule' | 'outcome'>;
  private readonly replicationBytes: Counter<'rule'>;

  constructor(options: MetricsOptions = {}) {
    const registry = this.registry;
    const registers = [registry];
    const buckets = [...LATENCY_BUCKETS];
    this.requests = new BatchedCounter({
      name: 'berth_http_requests_total',
      help: 'HTTP requests answered, by route name, method and status.',
      labelNames: ['route', 'method', 'status'],
      registry,
    });
    this.requestDuration = new Histogram({
      name: 'berth_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its response.',
      labelNames: ['route', 'method'],
      buckets,
      registers,
    });
    this.requestBytes = new BatchedCounter({
      name: 'berth_http_request_bytes_total',
      help: 'Request body bytes received, by route name.',
      labelNames: ['route'],
      registry,
    });
    this.responseBytes = new BatchedCounter({
      name: 'berth_http_response_bytes_total',
      help: 'Response bytes sent, by route name.',
      labelNames: ['route'],
      registry,
    });
    this.uploads = new Gauge({ name: 'berth_uploads_in_progress', help: 'Blob uploads receiving bytes right now.', registers });
    this.storageDuration = new Histogram({
      name: 'berth_storage_operation_duration_seconds',
      help: 'Storage driver calls, by driver and operation (reader and writer: the open).',
      labelNames: ['driver', 'operation'],
      buckets,
      registers,
    });
    this.storageErrors = new Counter({
      name: 'berth_storage_errors_total',
      help: 'Storage driver calls that rejected, by error code (BERTH_PATH_NOT_FOUND is often an expected answer).',
      labelNames: ['driver', 'operation', 'code'],
      registers,
    });
    this.metaDuration = new Histogram({
      name: 'berth_meta_operation_duration_seconds',
      help: 'Meta store calls, by operation.',
      labelNames: ['operation'],
      buckets,
      registers,
    });
    this.cacheRequests = new BatchedCounter({
      name: 'berth_cache_requests_total',
      help: 'In-process cache lookups, by cache and result (hit or miss).',
      labelNames: ['cache', 'result'],
      registry,
    });
    this.authFailures = new Counter({ name: 'berth_auth_failures_total', help: 'Requests refused for missing or bad credentials.', registers });
    this.mirrorRequests = new Counter({
      name: 'berth_mirror_requests_total',
      help: 'Requests for mirrored blobs and manifests, by upstream, object and outcome (hit, miss, stale: served from the cache while the upstream was down, error).',
      labelNames: ['upstream', 'object', 'outcome'],
      registers,
    });
    this.mirrorBytes = new Counter({
      name: 'berth_mirror_bytes_total',
      help: 'Bytes fetched from upstreams (kind=fetched) and served from the cache instead (kind=saved).',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    this.gcRuns = new Counter({ name: 'berth_gc_runs_total', help: 'Garbage collection runs, by dry_run.', labelNames: ['dry_run'], registers });
    this.gcDuration = new Histogram({
      name: 'berth_gc_duration_seconds',
      help: 'Time a garbage collection run took.',
      buckets: [0.01, 0.1, 1, 10, 60, 600, 3600],
      registers,
    });
    this.gcFreed = new Counter({ name: 'berth_gc_freed_objects_total', help: 'Objects garbage collection deleted: kind=blob or manifest.', labelNames: ['kind'], registers });
    this.gcBytes = new Counter({ name: 'berth_gc_freed_bytes_total', help: 'Bytes of blobs garbage collection deleted from storage.', registers });
    this.replicationRuns = new Counter({ name: 'berth_replication_runs_total', help: 'Replication runs ended, by rule and status (succeeded, partial, failed).', labelNames: ['rule', 'status'], registers });
    this.replicationImages = new Counter({ name: 'berth_replication_images_total', help: 'Tags handled by replication runs, by rule and outcome (copied, skipped, failed, deleted).', labelNames: ['rule', 'outcome'], registers });
    this.replicationBytes = new Counter({ name: 'berth_replication_bytes_total', help: 'Blob bytes replication runs sent, by rule.', labelNames: ['rule'], registers });
    this.gcErrors = new Counter({ name: 'berth_gc_errors_total', help: 'Steps of garbage collection runs that failed (the next run tries again).', registers });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** What garbage collection reports (registry/gc.ts GcObserver); dry runs only count as runs. */
  get gc(): GcObserver {
    return {
      run: (r) => {
        this.gcRuns.inc({ dry_run: String(r.dryRun) });
        this.gcDuration.observe(r.durationMs / 1000);
        if (r.dryRun) return;
        this.gcFreed.inc({ kind: 'blob' }, r.blobs);
        this.gcFreed.inc({ kind: 'manifest' }, r.manifests);
        this.gcBytes.inc(r.bytes);
      },
      error: () => this.gcErrors.inc(),
    };
  }

  observeRequest(o: RequestObservation): void {
    const { route, status } = o;
    const method = KNOWN_METHODS.has(o.method) ? o.method : 'OTHER';
    this.requests.add(`${route} ${method} ${status}`, () => ({ route, method, status: String(status) }));
    this.requestDuration.observe({ route, method }, o.seconds);
    if (o.bytesIn > 0) this.requestBytes.add(route, () => ({ route }), o.bytesIn);
    if (o.bytesOut > 0) this.responseBytes.add(route, () => ({ route }), o.bytesOut);
  }

  uploadStarted(): void {
    this.uploads.inc();
  }

  uploadEnded(): void {
    this.uploads.dec();
  }

  cacheLookup(cache: string, hit: boolean): void {
    const result = hit ? 'hit' : 'miss';
    this.cacheRequests.add(`${cache} ${result}`, () => ({ cache, result }));
  }

  authFailure(): void {
    this.authFailures.inc();
  }

  /** A mirrored request's outcome (MirrorObserver, src/proxy/stats.ts). */
  mirrorRequest(upstream: string, object: string, outcome: string): void {
    this.mirrorRequests.inc({ upstream, object, outcome });
  }

  /** A replication run ended. */
  replicationRun(rule: string, status: string, counts: { copied: number; skipped: number; failed: number; deleted: number; bytes: number }): void {
    this.replicationRuns.inc({ rule, status });
    for (const outcome of ['copied', 'skipped', 'failed', 'deleted'] as const) if (counts[outcome] > 0) this.replicationImages.inc({ rule, outcome }, counts[outcome]);
    if (counts.bytes > 0) this.replicationBytes.inc({ rule }, counts.bytes);
  }

  mirrorBytesCounted(upstream: string, kind: 'fetched' | 'saved', n: number): void {
    this.mirrorBytes.inc({ upstream, kind }, n);
  }

  /** One storage driver call; `errorCode` when it rejected. */
  observeStorage(driver: string, operation: string, seconds: number, errorCode?: string): void {
    this.storageDuration.observe({ driver, operation }, seconds);
    if (errorCode !== undefined) this.storageErrors.inc({ driver, operation, code: errorCode });
  }

  /** One meta store call, whatever its outcome. */
  observeMeta(operation: string, seconds: number): void {
    this.metaDuration.observe({ operation }, seconds);
  }

  async render(): Promise<RenderedMetrics> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
