/**
 * Pull counts without a write per pull: manifest GETs are counted in memory and added to the index
 * in one transaction every `intervalMs` (and on close). A crash loses at most one interval's counts,
 * which is fine for a popularity figure.
 */
import type { SearchIndex } from './model.ts';

export interface PullCounterOptions {
  intervalMs: number;
  /** Told when a flush fails (the counts are kept for the next one). */
  onError?: (err: unknown) => void;
}

export class PullCounter {
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly index: Pick<SearchIndex, 'addPulls'>,
    private readonly opts: PullCounterOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.intervalMs);
    this.timer.unref();
  }

  /** Count one pull of a repository (a map update: nothing is written here). */
  record(name: string): void {
    this.pending.set(name, (this.pending.get(name) ?? 0) + 1);
  }

  /** Write what has been counted; concurrent calls run one after the other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.index.addPulls(batch);
      } catch (err) {
        for (const [name, n] of batch) this.pending.set(name, (this.pending.get(name) ?? 0) + n);
        this.opts.onError?.(err);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
