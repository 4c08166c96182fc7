/**
 * Where the login throttle (throttle.ts) keeps its failure counts: per user at an address, per
 * address, per user everywhere, each under an opaque key. A count is how many failures there
 * were and when the last one was; the throttle derives its locks from that (the lock of a count
 * past its allowance ends a delay after its last failure), so a store keeps no policy. A count
 * whose last failure is `windowMs` old is forgotten: a failure after that starts it again at one.
 *
 * MemoryFailureCounts (here) is the default: one process, bounded, answering at once.
 * PgLoginFailures (meta/postgres/login-failures.ts) shares the counts between every node of a
 * cluster, so that a guesser gets one allowance, not one per node, and a lock holds everywhere.
 */
import type { LRUCache } from 'lru-cache';
import { lazyLru } from './lazy-lru.ts';

export type MaybePromise<T> = T | Promise<T>;

export interface Failures {
  failures: number;
  /** When the last failure was (ms since the epoch, the throttle's clock). */
  lastAt: number;
}

export interface FailureCounts {
  /** The counts of those of `keys` whose last failure is after `since` (the others have none). */
  read(keys: readonly string[], since: number): MaybePromise<ReadonlyMap<string, Failures>>;
  /**
   * One more failure at `now` for each of `keys` (a key given twice counts once), atomically per
   * key however many nodes count at once; a count whose last failure is at or before `since`
   * starts again at one. The last failure never moves back (nodes' clocks differ a little).
   */
  record(keys: readonly string[], now: number, since: number): MaybePromise<void>;
  /** Forget the count of `key` (a successful login). */
  clear(key: string): MaybePromise<void>;
}

/** A store that answers at once (so the throttle can too: its tests read locks synchronously). */
export interface SyncFailureCounts extends FailureCounts {
  read(keys: readonly string[], since: number): ReadonlyMap<string, Failures>;
  record(keys: readonly string[], now: number, since: number): void;
  clear(key: string): void;
}

/** The counts in this process's memory: the least recently failed are dropped past `max` keys. */
export class MemoryFailureCounts implements SyncFailureCounts {
  private readonly counts: LRUCache<string, Failures>;

  constructor(max = 100_000) {
    this.counts = lazyLru(max);
  }

  read(keys: readonly string[], since: number): ReadonlyMap<string, Failures> {
    const found = new Map<string, Failures>();
    for (const key of keys) {
      const count = this.counts.peek(key);
      if (count !== undefined && count.lastAt > since) found.set(key, { ...count });
    }
    return found;
  }

  record(keys: readonly string[], now: number, since: number): void {
    for (const key of new Set(keys)) {
      const count = this.counts.get(key);
      const live = count !== undefined && count.lastAt > since;
      this.counts.set(key, { failures: live ? count.failures + 1 : 1, lastAt: live ? Math.max(count.lastAt, now) : now });
    }
  }

  clear(key: string): void {
    this.counts.delete(key);
  }
}
