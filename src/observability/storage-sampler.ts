/**
 * Storage usage over time: a sample of the bytes per namespace (and the total) is taken just after
 * start and then every interval (1 h unless told), and samples older than the retention (90 days)
 * are pruned as each new one is written. The timers never keep the process alive; stop() waits
 * for a sample in flight, so the meta store can be closed after it.
 */
import type { StorageSample, StorageUsage, StorageUsageStore } from '../meta/storage-usage.ts';
import type { RunOnce } from '../meta/leases.ts';

export const DEFAULT_SAMPLE_INTERVAL_MS = 60 * 60 * 1000;
export const DEFAULT_SAMPLE_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** The namespaces a sample keeps: the largest ones (a chart shows no more; the total counts them all). */
export const SAMPLED_NAMESPACES = 25;

export interface StorageSamplerOptions {
  /** Milliseconds between samples; 1 h by default. */
  intervalMs?: number;
  /** How long samples are kept, in milliseconds; 90 days by default. */
  retentionMs?: number;
  /** Told when a sample fails (the next one is taken at the next interval). */
  onError?: (err: unknown) => void;
  now?: () => number;
  /** Where several nodes share the store: take the timer's samples only on the node holding the job's lease. */
  runOnce?: RunOnce;
}

/** The sample of a usage: the total and the largest namespaces. */
export function sampleOf(usage: StorageUsage, at: number): StorageSample {
  const namespaces: Record<string, number> = {};
  for (const n of usage.namespaces.slice(0, SAMPLED_NAMESPACES)) namespaces[n.namespace] = n.bytes;
  return { at, total: usage.total.bytes, namespaces };
}

export class StorageSampler {
  private readonly intervalMs: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StorageUsageStore,
    private readonly opts: StorageSamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.retentionMs = opts.retentionMs ?? DEFAULT_SAMPLE_RETENTION_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Take the first sample once start-up is done (not on its path), then one every interval. */
  start(): void {
    if (this.timers.length > 0) return;
    const first = setTimeout(() => void this.tick(), 0);
    const every = setInterval(() => void this.tick(), this.intervalMs);
    for (const t of [first, every]) t.unref();
    this.timers = [first, every];
  }

  /** A timer's sample: here, or on the node that holds the sampling lease (one sample per interval across a cluster). */
  private async tick(): Promise<void> {
    const runOnce = this.opts.runOnce;
    if (runOnce === undefined) return this.sample();
    await runOnce('storage-sampling', this.intervalMs, () => this.sample()).catch((err: unknown) => this.opts.onError?.(err));
  }

  /** Take a sample now and prune expired ones; samples never overlap. Failures go to onError. */
  sample(): Promise<void> {
    this.running = this.running.then(async () => {
      try {
        const at = this.now();
        await this.store.recordSample(sampleOf(await this.store.usage(), at));
        await this.store.pruneSamples(at - this.retentionMs);
      } catch (err) {
        this.opts.onError?.(err);
      }
    });
    return this.running;
  }

  /** Stop the timers and wait for a sample in flight. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await this.running;
  }
}
