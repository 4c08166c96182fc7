import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle, networkOf, type ThrottleClock, type ThrottleOptions } from './throttle.ts';

/** A clock the test moves; sleeps wait until the test wakes them. */
class TestClock implements ThrottleClock {
  t = 1_000_000;
  readonly sleeping: { ms: number; wake: () => void }[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sleeping.push({ ms, wake: resolve }));
  }
  /** Move time on by the first sleeper's wait and wake every sleeper. */
  async wakeAll(): Promise<void> {
    this.t += this.sleeping[0]?.ms ?? 0;
    for (const s of this.sleeping.splice(0)) s.wake();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const OPTIONS: Partial<ThrottleOptions> = { freeAttempts: 3, addressFreeAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000, maxSlowdownMs: 500, maxHeldLogins: 4, slowStepMs: 0 };

function setup(options: Partial<ThrottleOptions> = {}): { t: LoginThrottle; clock: TestClock } {
  const clock = new TestClock();
  return { t: new LoginThrottle({ ...OPTIONS, ...options }, clock), clock };
}

function fail(t: LoginThrottle, user: string | undefined, addr: string, times: number): void {
  for (let i = 0; i < times; i++) t.failed(user, addr);
}

describe('login throttle', () => {
  it('locks a user at an address after his allowance, doubling, capped; refuses him at once there, nowhere else', async () => {
    const { t, clock } = setup();
    fail(t, 'alice', '10.0.0.1', 3);
    assert.equal(await t.admit('alice', '10.0.0.1'), 0, 'the allowance is used up, not passed');
    t.failed('alice', '10.0.0.1');
    assert.equal(await t.admit('alice', '10.0.0.1'), 100, 'refused, without waiting');
    assert.equal(clock.sleeping.length, 0);
    clock.t += 100;
    assert.equal(await t.admit('alice', '10.0.0.1'), 0, 'the lock ends');
    t.failed('alice', '10.0.0.1');
    assert.equal(t.userLockMs('alice', '10.0.0.1'), 200, 'doubling');
    assert.equal(await t.admit('alice', '10.0.0.2'), 0, 'alice elsewhere is not locked out');
    fail(t, 'alice', '10.0.0.1', 20);
    assert.equal(t.userLockMs('alice', '10.0.0.1'), 1000, 'capped');
    t.succeeded('alice', '10.0.0.1');
    assert.equal(t.userLockMs('alice', '10.0.0.1'), 0, 'a success clears his count');
  });

  it('slows an address past its allowance down instead of refusing its other users', async () => {
    const { t, clock } = setup();
    for (let i = 0; i < 7; i++) t.failed(`nobody${i}`, '10.0.0.1');
    assert.equal(t.slowdownMs('10.0.0.1'), 100, 'seven failures from one address: one past its allowance');
    const admitted = t.admit('bob', '10.0.0.1');
    assert.deepEqual(
      clock.sleeping.map((s) => s.ms),
      [100],
      'bob waits for the lock of the address',
    );
    await clock.wakeAll();
    assert.equal(await admitted, 0, 'then his password is checked');
    assert.equal(t.slowdownMs('10.0.0.2'), 0, 'other addresses are not slowed');
    fail(t, undefined, '10.0.0.1', 20);
    assert.equal(t.slowdownMs('10.0.0.1'), 500, 'the wait is capped at maxSlowdownMs, below the lock');
  });

  it('bounds the logins held back: in all, and for one user to the failures he has left', async () => {
    const { t, clock } = setup();
    fail(t, undefined, '10.0.0.1', 6);
    t.failed('alice', '10.0.0.1');
    const alice = [t.admit('alice', '10.0.0.1'), t.admit('alice', '10.0.0.1')];
    assert.equal(await t.admit('alice', '10.0.0.1'), 100, 'alice has two failures left in her allowance: a third waiting guess is refused');
    const others = [t.admit('bob', '10.0.0.1'), t.admit(undefined, '10.0.0.1')];
    assert.equal(clock.sleeping.length, 4);
    assert.equal(await t.admit('carol', '10.0.0.1'), 100, 'maxHeldLogins (4) are waiting: refused');
    // While they wait, guesses at alice that were not held back (the address was not slowed yet, say) fail and lock her.
    fail(t, 'alice', '10.0.0.1', 4);
    await clock.wakeAll();
    const [a1, a2] = await Promise.all(alice);
    assert.deepEqual([a1, a2], [100, 100], 'the held guesses at alice find her locked when they wake');
    assert.deepEqual(await Promise.all(others), [0, 0]);
    const again = t.admit('carol', '10.0.0.1');
    assert.equal(clock.sleeping.length, 1, 'the slots are free again');
    await clock.wakeAll();
    assert.equal(await again, 0);
  });

  it('paces the password checks of a slowed address: concurrent guesses gain nothing (second review)', async () => {
    const { t, clock } = setup({ slowStepMs: 100, maxSlowdownMs: 500, maxHeldLogins: 1000 });
    fail(t, undefined, '10.0.0.1', 7);
    const answers = Array.from({ length: 50 }, (_, i) => t.admit(`spray${i}`, '10.0.0.1'));
    const refused = (await Promise.all(answers.map((a) => Promise.race([a, Promise.resolve(-1)])))).filter((r) => r > 0).length;
    assert.deepEqual(
      clock.sleeping.map((s) => s.ms),
      [100, 200, 300, 400, 500],
      'one check per slowStepMs after the lock, as far ahead as maxSlowdownMs',
    );
    assert.equal(refused, 45, 'the rest are refused at once');
    assert.equal(await t.admit('other', '10.0.0.2'), 0, 'another address is not affected');
  });

  it("paces a user's logins from new addresses once guesses at him from many addresses pass his allowance", async () => {
    const { t, clock } = setup({ userFreeAttempts: 10, slowStepMs: 100 });
    t.succeeded('boss', '10.9.9.9');
    // Two failures each from 2001:db8:0:N::/64 — under every per-address allowance.
    for (let n = 0; n < 6; n++) fail(t, 'boss', `2001:db8:0:${n}::1`, 2);
    assert.equal(t.userLockMs('boss', '2001:db8:0:99::1'), 0, 'no lock at a new address');
    const first = t.admit('boss', '2001:db8:0:99::1');
    const second = t.admit('boss', '2001:db8:0:98::1');
    assert.deepEqual(clock.sleeping.map((s) => s.ms), [200, 300], 'paced across addresses');
    assert.equal(await t.admit('boss', '10.9.9.9'), 0, 'his known device is not slowed');
    await clock.wakeAll();
    await Promise.all([first, second]);
  });

  it('does not slow a user who logged in from that address before (a known device)', async () => {
    const { t, clock } = setup();
    t.succeeded('boss', '10.0.0.1');
    fail(t, undefined, '10.0.0.1', 20);
    assert.equal(await t.admit('boss', '10.0.0.1'), 0);
    assert.equal(clock.sleeping.length, 0, 'no wait');
    fail(t, 'boss', '10.0.0.1', 4);
    assert.ok((await t.admit('boss', '10.0.0.1')) > 0, 'his own lock still refuses him');
  });

  it('counts credentials that name nobody (refresh tokens) against the address only', async () => {
    const { t } = setup();
    fail(t, undefined, '10.0.0.1', 5);
    assert.equal(t.userLockMs('', '10.0.0.1'), 0);
    assert.equal(await t.admit(undefined, '10.0.0.1'), 0);
    assert.equal(await t.admit('alice', '10.0.0.1'), 0);
  });

  it('counts an IPv6 address as its /64, and an IPv4-mapped address as the IPv4 address', () => {
    assert.equal(networkOf('2001:DB8::1'), '2001:db8:0:0::/64');
    assert.equal(networkOf('2001:db8:0:0:ffff:1:2:3'), '2001:db8:0:0::/64');
    assert.equal(networkOf('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(networkOf('not an address'), 'not an address');
    const { t } = setup();
    fail(t, 'alice', '2001:db8::1', 4);
    assert.ok(t.userLockMs('alice', '2001:db8::abcd') > 0, 'another address of the same /64');
    assert.equal(t.userLockMs('alice', '2001:db8:0:1::1'), 0, 'another /64');
    fail(t, 'bob', '::ffff:10.0.0.9', 4);
    assert.ok(t.userLockMs('bob', '10.0.0.9') > 0);
  });
});
