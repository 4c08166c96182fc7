import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { RateLimit, type RateClock } from './rate.ts';

/** A clock that moves only when slept on (so the waits are what the limit asked for). */
function fakeClock(): RateClock & { slept: number[] } {
  let t = 1_000;
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms) => void (slept.push(ms), (t += ms)) };
}

describe('RateLimit', () => {
  it('holds one stream to the rate, past a quarter second of burst', async () => {
    const clock = fakeClock();
    const rate = new RateLimit(1024 * 1024, clock);
    const chunks = Array.from({ length: 8 }, () => Buffer.alloc(512 * 1024, 1));
    const out = await buffer(Readable.from(chunks).pipe(rate.throttle()));
    assert.equal(out.length, 4 * 1024 * 1024);
    // 4 MiB at 1 MiB/s: 4 s, less the quarter second that may go at once at the start and the
    // quarter second the last chunk may be ahead
    assert.equal(Math.round(clock.slept.reduce((a, b) => a + b, 0)), 3500);
  });

  it('is shared: two streams together keep to it', async () => {
    const clock = fakeClock();
    const rate = new RateLimit(2 * 1024 * 1024, clock);
    const stream = () => buffer(Readable.from(Array.from({ length: 4 }, () => Buffer.alloc(512 * 1024))).pipe(rate.throttle()));
    await Promise.all([stream(), stream()]);
    // 4 MiB at 2 MiB/s: 2 s in all, less the burst at each end; the waits of the two streams overlap
    assert.ok(Math.max(...clock.slept) > 0);
    assert.equal(Math.round(clock.now() - 1_000), 1500);
  });

  it('costs nothing below the rate, and refuses a rate of nothing', async () => {
    const clock = fakeClock();
    const rate = new RateLimit(10 * 1024 * 1024, clock);
    await rate.take(1024 * 1024);
    assert.deepEqual(clock.slept, []);
    assert.throws(() => new RateLimit(0), /more than 0/);
  });
});
