/**
 * Slows down password guessing: after a few failures for a user or from an address, each further
 * attempt waits longer (doubling up to a cap) before it is even checked. A success clears the
 * user's count. Kept in memory, bounded; a restart forgets, which only helps a patient attacker
 * by a few seconds.
 */
import { LRUCache } from 'lru-cache';

export interface ThrottleOptions {
  /** Failures allowed before slowing down. */
  freeAttempts: number;
  /** First delay, doubled with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { freeAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, windowMs: 15 * 60_000 };

export class LoginThrottle {
  private readonly failures: LRUCache<string, number>;

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {
    this.failures = new LRUCache({ max: 100_000, ttl: options.windowMs });
  }

  /** How long to wait before checking a login of `user` from `addr`. */
  delayMs(user: string, addr: string): number {
    const n = Math.max(this.failures.get(`u:${user}`) ?? 0, this.failures.get(`a:${addr}`) ?? 0) - this.options.freeAttempts;
    if (n < 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(n, 20));
  }

  failed(user: string, addr: string): void {
    for (const key of [`u:${user}`, `a:${addr}`]) this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  succeeded(user: string): void {
    this.failures.delete(`u:${user}`);
  }
}
