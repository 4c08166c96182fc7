/**
 * Slows down password guessing. Failures are counted per user name from one address, and per
 * address whatever the user name (with a higher allowance, for many users behind one NAT or proxy).
 *
 * - Past a user's allowance at an address, each failure locks that user there for a while, doubling
 *   up to a cap, and his logins from there are refused at once (429 with Retry-After) without
 *   checking the password: parallel guesses gain nothing, and the same user elsewhere is not locked.
 * - Past an address's allowance, its logins are slowed, not refused: each waits until the address's
 *   lock ends, and they are paced, one password check every slowStepMs for that address, so that
 *   concurrent guesses gain nothing (a login whose turn is more than maxSlowdownMs away is refused).
 *   Someone making up user names therefore cannot lock everybody else at that address (all users
 *   behind one proxy, say) out of their accounts; he only slows them down, and a user who logged in
 *   from that address before (within knownDeviceMs) is not slowed at all. Waiting is bounded: at
 *   most maxHeldLogins logins wait at once, and for one user at one address no more than the
 *   failures he has left before his own lock, so held guesses cannot overshoot it.
 * - Past a user's allowance across all addresses (userFreeAttempts), his logins from addresses that
 *   are not known devices are paced the same way, so spreading guesses over many addresses gains
 *   nothing either.
 *
 * A success clears the user's count at that address. An IPv6 address counts as its /64 (what one
 * host is usually given). Kept in memory, bounded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import { canonicalIp, familyOf, ipv6Groups } from '../config/ip.ts';

export interface ThrottleOptions {
  /** Failures of one user from one address allowed before locking. */
  freeAttempts: number;
  /** Failures from one address, any user, allowed before slowing the address down. */
  addressFreeAttempts: number;
  /**
   * Failures of one user from every address together allowed before his logins are paced the same
   * way (from addresses he has not logged in from): many addresses (an IPv6 /48 holds 65,536 /64s)
   * then get no more guesses at him than one.
   */
  userFreeAttempts: number;
  /** First lock, doubled with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** The longest a login from an address past its allowance waits before its password is checked (docker login gives up after 15 s). */
  maxSlowdownMs: number;
  /** Logins waiting at once, all addresses together; a login that would wait beyond this is refused. */
  maxHeldLogins: number;
  /** Password checks of an address past its allowance are this far apart (its guesses cannot run in parallel). */
  slowStepMs: number;
  /** How long a user's successful login from an address exempts him there from the address's slowdown. */
  knownDeviceMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeAttempts: 5,
  addressFreeAttempts: 30,
  userFreeAttempts: 50,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  windowMs: 15 * 60_000,
  maxSlowdownMs: 10_000,
  maxHeldLogins: 256,
  slowStepMs: 1000,
  knownDeviceMs: 30 * 24 * 3600_000,
};

/** Time, injectable for tests. */
export interface ThrottleClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: ThrottleClock = { now: () => Date.now(), sleep: (ms) => sleep(ms, undefined, { ref: false }) };

interface Count {
  failures: number;
  lockedUntil: number;
}

/** What an address counts as: itself, or its /64 for IPv6 (canonical, so that every spelling counts once). */
export function networkOf(addr: string): string {
  const canonical = canonicalIp(addr);
  if (canonical === undefined || familyOf(canonical) === 'ipv4') return canonical ?? addr;
  const groups = ipv6Groups(canonical).slice(0, 4);
  return `${groups.map((group) => group.toString(16)).join(':')}::/64`;
}

export class LoginThrottle {
  private readonly counts: LRUCache<string, Count>;
  private readonly options: ThrottleOptions;
  /** Waiting logins by user key (see admit). */
  private readonly held = new Map<string, number>();
  private heldTotal = 0;
  /** When the next password check of a slowed address may run, by network. */
  private readonly nextSlot: LRUCache<string, number>;
  /** `userKey`s that logged in successfully: known devices, not slowed by their address. */
  private readonly known: LRUCache<string, true>;

  constructor(
    options: Partial<ThrottleOptions> = {},
    private readonly clock: ThrottleClock = SYSTEM_CLOCK,
  ) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
    this.counts = new LRUCache({ max: 100_000, ttl: this.options.windowMs });
    this.nextSlot = new LRUCache({ max: 100_000 });
    this.known = new LRUCache({ max: 100_000, ttl: this.options.knownDeviceMs });
  }

  private userKey(user: string, network: string): string {
    return `u:${network}\0${user}`;
  }

  private lockLeft(key: string, now: number): number {
    return Math.max(0, (this.counts.get(key)?.lockedUntil ?? 0) - now);
  }

  /** How long (ms) `user` is refused at `addr` by his own lock; 0 when he is not locked there. */
  userLockMs(user: string, addr: string): number {
    return this.lockLeft(this.userKey(user, networkOf(addr)), this.clock.now());
  }

  /** How long (ms) a login from `addr` would wait before its password is checked; 0 when it is not slowed. */
  slowdownMs(addr: string): number {
    return Math.min(this.options.maxSlowdownMs, this.lockLeft(`a:${networkOf(addr)}`, this.clock.now()));
  }

  /**
   * Call before checking a password. Resolves with 0 when it may be checked, after waiting out
   * the address's slowdown if any; or with how long (ms) to refuse the login for: the user is
   * locked at this address, or too many logins wait already. `user` is undefined for credentials
   * that name nobody (a refresh token): then only the address counts.
   */
  async admit(user: string | undefined, addr: string): Promise<number> {
    const network = networkOf(addr);
    const key = user === undefined ? undefined : this.userKey(user, network);
    const now = this.clock.now();
    const locked = key === undefined ? 0 : this.lockLeft(key, now);
    if (locked > 0) return locked;
    if (key !== undefined && this.known.has(key)) return 0;
    // Paced: the address (and the user, everywhere) past its allowance has its turns one step apart, after its lock.
    const paced = [`a:${network}`, ...(user === undefined ? [] : [`g:${user}`])].filter((k) => this.lockLeft(k, now) > 0);
    if (paced.length === 0) return 0;
    let wait = 0;
    for (const k of paced) wait = Math.max(wait, Math.min(this.options.maxSlowdownMs, this.lockLeft(k, now)), (this.nextSlot.get(k) ?? 0) - now);
    if (wait > this.options.maxSlowdownMs) return wait;
    if (this.heldTotal >= this.options.maxHeldLogins || (key !== undefined && (this.held.get(key) ?? 0) >= this.room(key))) return wait;
    for (const k of paced) this.nextSlot.set(k, now + wait + this.options.slowStepMs);
    this.hold(key, 1);
    try {
      await this.clock.sleep(wait);
    } finally {
      this.hold(key, -1);
    }
    // Guesses at this user that failed meanwhile may have locked him.
    return key === undefined ? 0 : this.lockLeft(key, this.clock.now());
  }

  /** How many logins of one user at one address may wait at once: the failures he has left before his lock, at least one. */
  private room(key: string): number {
    return Math.max(1, this.options.freeAttempts - (this.counts.get(key)?.failures ?? 0));
  }

  private hold(key: string | undefined, delta: 1 | -1): void {
    this.heldTotal += delta;
    if (key === undefined) return;
    const n = (this.held.get(key) ?? 0) + delta;
    if (n === 0) this.held.delete(key);
    else this.held.set(key, n);
  }

  failed(user: string | undefined, addr: string): void {
    const network = networkOf(addr);
    const now = this.clock.now();
    const keys: [string, number][] = [[`a:${network}`, this.options.addressFreeAttempts]];
    if (user !== undefined) keys.push([this.userKey(user, network), this.options.freeAttempts], [`g:${user}`, this.options.userFreeAttempts]);
    for (const [key, free] of keys) {
      const count = this.counts.get(key) ?? { failures: 0, lockedUntil: 0 };
      count.failures++;
      const over = count.failures - free;
      if (over > 0) count.lockedUntil = now + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 20));
      this.counts.set(key, count);
    }
  }

  succeeded(user: string, addr: string): void {
    const key = this.userKey(user, networkOf(addr));
    this.counts.delete(key);
    this.known.set(key, true);
  }
}
