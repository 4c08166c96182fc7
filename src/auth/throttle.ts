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
 * host is usually given).
 *
 * The counts, and so the locks, are kept in a FailureCounts store (failure-store.ts): in memory,
 * bounded, by default; in the database when several nodes share one (Backend.loginFailures), so
 * that a guesser gets one allowance across the cluster and a lock holds on every node. Admitting a
 * login reads its counts once; only a failure, or a success after failures, writes. The pacing,
 * the held logins and the known devices stay on each node: they are about its own concurrency.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LRUCache } from 'lru-cache';
import { lazyLru } from './lazy-lru.ts';
import { canonicalIp, familyOf, ipv6Groups } from '../config/ip.ts';
import { MemoryFailureCounts, type FailureCounts, type Failures, type MaybePromise, type SyncFailureCounts } from './failure-store.ts';

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

/** What an address counts as: itself, or its /64 for IPv6 (canonical, so that every spelling counts once). */
export function networkOf(addr: string): string {
  const canonical = canonicalIp(addr);
  if (canonical === undefined || familyOf(canonical) === 'ipv4') return canonical ?? addr;
  const groups = ipv6Groups(canonical).slice(0, 4);
  return `${groups.map((group) => group.toString(16)).join(':')}::/64`;
}

/**
 * What the throttle answers with its store S: at once when S answers at once (in memory, the
 * default), else possibly a promise (a database).
 */
export type ThrottleAnswer<S extends FailureCounts, T> = S extends SyncFailureCounts ? T : MaybePromise<T>;

/** `next` applied to `value`, at once unless `value` is a promise. */
function then<T, R>(value: MaybePromise<T>, next: (v: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

export class LoginThrottle<S extends FailureCounts = MemoryFailureCounts> {
  private readonly options: ThrottleOptions;
  private readonly store: FailureCounts;
  /** Waiting logins by user key (see admit). */
  private readonly held = new Map<string, number>();
  private heldTotal = 0;
  /** When the next password check of a slowed address may run, by network. */
  private readonly nextSlot: LRUCache<string, number>;
  /** `userKey`s that logged in successfully: known devices, not slowed by their address. */
  private readonly known: LRUCache<string, true>;
  /** `userKey`s with failures counted, as this node last saw: only their success writes (clears). */
  private readonly uncleared: LRUCache<string, true>;

  /** `store` keeps the failure counts: this process's memory unless given (a database shared by nodes). */
  constructor(
    options: Partial<ThrottleOptions> = {},
    private readonly clock: ThrottleClock = SYSTEM_CLOCK,
    store?: S,
  ) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
    this.store = store ?? new MemoryFailureCounts();
    this.nextSlot = lazyLru(100_000);
    this.known = lazyLru(100_000, this.options.knownDeviceMs);
    this.uncleared = lazyLru(100_000, this.options.windowMs);
  }

  private userKey(user: string, network: string): string {
    return `u:${network}\0${user}`;
  }

  /** Counts whose last failure is before this are forgotten. */
  private since(now: number): number {
    return now - this.options.windowMs;
  }

  /** How long the lock of `key` (allowed `free` failures) has left: past its allowance, a delay from its last failure, doubling, capped. */
  private lockLeft(counts: ReadonlyMap<string, Failures>, key: string, free: number, now: number): number {
    const count = counts.get(key);
    const over = (count?.failures ?? 0) - free;
    if (count === undefined || over <= 0) return 0;
    return Math.max(0, count.lastAt + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 20)) - now);
  }

  /** How long (ms) `user` is refused at `addr` by his own lock; 0 when he is not locked there. */
  userLockMs(user: string, addr: string): ThrottleAnswer<S, number> {
    const key = this.userKey(user, networkOf(addr));
    const now = this.clock.now();
    return then(this.store.read([key], this.since(now)), (counts) => this.lockLeft(counts, key, this.options.freeAttempts, now)) as ThrottleAnswer<S, number>;
  }

  /** How long (ms) a login from `addr` would wait before its password is checked; 0 when it is not slowed. */
  slowdownMs(addr: string): ThrottleAnswer<S, number> {
    const key = `a:${networkOf(addr)}`;
    const now = this.clock.now();
    const lock = then(this.store.read([key], this.since(now)), (counts) => this.lockLeft(counts, key, this.options.addressFreeAttempts, now));
    return then(lock, (ms) => Math.min(this.options.maxSlowdownMs, ms)) as ThrottleAnswer<S, number>;
  }

  /**
   * Call before checking a password. Resolves with 0 when it may be checked, after waiting out
   * the address's slowdown if any; or with how long (ms) to refuse the login for: the user is
   * locked at this address, or too many logins wait already. `user` is undefined for credentials
   * that name nobody (a refresh token): then only the address counts. Reads the counts once
   * (and once more after a wait, for the user's lock).
   */
  admit(user: string | undefined, addr: string): Promise<number> {
    const network = networkOf(addr);
    const keys = [`a:${network}`, ...(user === undefined ? [] : [this.userKey(user, network), `g:${user}`])];
    const counts = this.store.read(keys, this.since(this.clock.now()));
    return counts instanceof Promise ? counts.then((c) => this.decide(c, user, network)) : this.decide(counts, user, network);
  }

  private async decide(counts: ReadonlyMap<string, Failures>, user: string | undefined, network: string): Promise<number> {
    const key = user === undefined ? undefined : this.userKey(user, network);
    const now = this.clock.now();
    if (key !== undefined && counts.has(key)) this.uncleared.set(key, true);
    const locked = key === undefined ? 0 : this.lockLeft(counts, key, this.options.freeAttempts, now);
    if (locked > 0) return locked;
    if (key !== undefined && this.known.has(key)) return 0;
    // Paced: the address (and the user, everywhere) past its allowance has its turns one step apart, after its lock.
    const allowances: [string, number][] = [[`a:${network}`, this.options.addressFreeAttempts], ...(user === undefined ? [] : [[`g:${user}`, this.options.userFreeAttempts] as [string, number]])];
    const paced = allowances.map(([k, free]): [string, number] => [k, this.lockLeft(counts, k, free, now)]).filter(([, lock]) => lock > 0);
    if (paced.length === 0) return 0;
    let wait = 0;
    for (const [k, lock] of paced) wait = Math.max(wait, Math.min(this.options.maxSlowdownMs, lock), (this.nextSlot.get(k) ?? 0) - now);
    if (wait > this.options.maxSlowdownMs) return wait;
    if (this.heldTotal >= this.options.maxHeldLogins || (key !== undefined && (this.held.get(key) ?? 0) >= this.room(counts, key))) return wait;
    for (const [k] of paced) this.nextSlot.set(k, now + wait + this.options.slowStepMs);
    this.hold(key, 1);
    try {
      await this.clock.sleep(wait);
    } finally {
      this.hold(key, -1);
    }
    if (key === undefined) return 0;
    // Guesses at this user that failed meanwhile (here or on another node) may have locked him.
    const after = await this.store.read([key], this.since(this.clock.now()));
    return this.lockLeft(after, key, this.options.freeAttempts, this.clock.now());
  }

  /** How many logins of one user at one address may wait at once: the failures he has left before his lock, at least one. */
  private room(counts: ReadonlyMap<string, Failures>, key: string): number {
    return Math.max(1, this.options.freeAttempts - (counts.get(key)?.failures ?? 0));
  }

  private hold(key: string | undefined, delta: 1 | -1): void {
    this.heldTotal += delta;
    if (key === undefined) return;
    const n = (this.held.get(key) ?? 0) + delta;
    if (n === 0) this.held.delete(key);
    else this.held.set(key, n);
  }

  /** Count a failed login (one write). */
  failed(user: string | undefined, addr: string): ThrottleAnswer<S, void> {
    const network = networkOf(addr);
    const now = this.clock.now();
    const keys = [`a:${network}`];
    if (user !== undefined) {
      const key = this.userKey(user, network);
      keys.push(key, `g:${user}`);
      this.uncleared.set(key, true);
    }
    return this.store.record(keys, now, this.since(now)) as ThrottleAnswer<S, void>;
  }

  /** A successful login: clears the user's count at that address (a write only when there were failures). */
  succeeded(user: string, addr: string): ThrottleAnswer<S, void> {
    const key = this.userKey(user, networkOf(addr));
    this.known.set(key, true);
    if (!this.uncleared.has(key)) return undefined as ThrottleAnswer<S, void>;
    this.uncleared.delete(key);
    return this.store.clear(key) as ThrottleAnswer<S, void>;
  }
}
