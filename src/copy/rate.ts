/**
 * A bandwidth limit shared by every stream of a copy or a replication run (`berth cp
 * --limit-rate`, a rule's `bandwidth`): a token bucket in time. Each chunk is let through once
 * the bytes before it have had their time at the rate; up to a quarter second of bytes may go at
 * once (a burst), so a limit costs no pause below it. Streams share it, so four blobs in flight
 * together keep to the rate.
 */
import { Transform } from 'node:stream';

export interface RateClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL: RateClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** Milliseconds of bytes that may go at once. */
const BURST_MS = 250;

export class RateLimit {
  /** When the bytes let through so far have had their time. */
  private until = 0;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: RateClock = REAL,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('a rate is more than 0 bytes a second');
  }

  /** Wait until `bytes` more may go. */
  async take(bytes: number): Promise<void> {
    const now = this.clock.now();
    this.until = Math.max(this.until, now - BURST_MS) + (bytes * 1000) / this.bytesPerSecond;
    const wait = this.until - now - BURST_MS;
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** A pass-through stream held to the rate. */
  throttle(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.take(chunk.length).then(
          () => done(null, chunk),
          (err: unknown) => done(err as Error),
        );
      },
    });
  }
}
