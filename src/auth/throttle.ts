/**
 * Slows down password guessing. Failures are counted per user name from one address, and per
 * address whatever the user name (with a higher allowance, for many users behind one NAT). Past
 * the allowance, each failure locks that key for a while, doubling up to a cap, and a login tried
 * while locked is refused at once (429 with Retry-After) without checking the password, so
 * parallel guesses gain nothing and nobody elsewhere is locked out of their own account. A success
 * clears the user's count at that address. Kept in memory, bounded.
 */
import { LRUCache } from 'lru-cache';

export interface ThrottleOptions {
  /** Failures of one user from one address allowed before locking. */
  freeAttempts: number;
  /** Failures from one address, any user, allowed before locking the address. */
  addressFreeAttempts: number;
  /** First lock, doubled with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { freeAttempts: 5, addressFreeAttempts: 30, baseDelayMs: 1000, maxDelayMs: 60_000, windowMs: 15 * 60_000 };

interface Count {
  failures: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly counts: LRUCache<string, Count>;

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {
    this.counts = new LRUCache({ max: 100_000, ttl: options.windowMs });
  }

  private keys(user: string, addr: string): [string, number][] {
    return [
      [`u:${addr}\0${user}`, this.options.freeAttempts],
      [`a:${addr}`, this.options.addressFreeAttempts],
    ];
  }

  /** How long (ms) a login of `user` from `addr` is refused for; 0 when it may be tried. */
  retryAfterMs(user: string, addr: string, now = Date.now()): number {
    let wait = 0;
    for (const [key] of this.keys(user, addr)) wait = Math.max(wait, (this.counts.get(key)?.lockedUntil ?? 0) - now);
    return wait;
  }

  failed(user: string, addr: string, now = Date.now()): void {
    for (const [key, free] of this.keys(user, addr)) {
      const count = this.counts.get(key) ?? { failures: 0, lockedUntil: 0 };
      count.failures++;
      const over = count.failures - free;
      if (over > 0) count.lockedUntil = now + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 20));
      this.counts.set(key, count);
    }
  }

  succeeded(user: string, addr: string): void {
    this.counts.delete(`u:${addr}\0${user}`);
  }
}
