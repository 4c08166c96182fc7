/**
 * Pull counts without a write per pull: manifest GETs are counted in memory and added to the index
 * in one transaction every `intervalMs` (and on close). A crash loses at most one interval's counts,
 * which is fine for a popularity figure.
 */
import type { SearchIndex } from './model.ts';
import type { TagActivityStore, TagPull } from '../meta/tag-activity.ts';

export interface PullCounterOptions {
  intervalMs: number;
  /** Told when a flush fails (the counts are kept for the next one). */
  onError?: (err: unknown) => void;
  /** Where each tag's last pull is stamped, in the same batches (retention's delete.notpulledfor); none: not recorded. */
  tags?: Pick<TagActivityStore, 'recordPulls'>;
  /** The clock of the pull times (tests); Date.now unless given. */
  now?: () => number;
}

export class PullCounter {
  private pending = new Map<string, number>();
  /** The last pull of each repository and reference (tag or digest), by `repository reference`. */
  private pendingTags = new Map<string, TagPull>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly index: Pick<SearchIndex, 'addPulls'>,
    private readonly opts: PullCounterOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.intervalMs);
    this.timer.unref();
  }

  /** Count one pull of a repository, of `reference` (a tag or digest) when given (a map update: nothing is written here). */
  record(name: string, reference?: string): void {
    this.pending.set(name, (this.pending.get(name) ?? 0) + 1);
    if (reference !== undefined) this.used(name, reference);
  }

  /** Note a tag or digest as used (a HEAD resolving it): its tags' last pull moves, the pull count does not. */
  used(name: string, reference: string): void {
    if (this.opts.tags === undefined) return;
    this.pendingTags.set(`${name} ${reference}`, { repository: name, reference, at: (this.opts.now ?? Date.now)() });
  }

  /** Write what has been counted; concurrent calls run one after the other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        try {
          await this.index.addPulls(batch);
        } catch (err) {
          for (const [name, n] of batch) this.pending.set(name, (this.pending.get(name) ?? 0) + n);
          this.opts.onError?.(err);
        }
      }
      if (this.pendingTags.size > 0 && this.opts.tags !== undefined) {
        const tags = this.pendingTags;
        this.pendingTags = new Map();
        try {
          await this.opts.tags.recordPulls([...tags.values()]);
        } catch (err) {
          // Kept for the next flush, unless a later pull of the same reference came meanwhile.
          for (const [key, pull] of tags) if (!this.pendingTags.has(key)) this.pendingTags.set(key, pull);
          this.opts.onError?.(err);
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
