import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LoginThrottle } from './throttle.ts';

it('login throttle: locks a user at an address after its allowance, doubling, capped; the address has its own allowance', () => {
  const t = new LoginThrottle({ freeAttempts: 3, addressFreeAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000 });
  const now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    assert.equal(t.retryAfterMs('alice', '10.0.0.1', now), 0);
    t.failed('alice', '10.0.0.1', now);
  }
  assert.equal(t.retryAfterMs('alice', '10.0.0.1', now), 0, 'the allowance is not yet used up');
  t.failed('alice', '10.0.0.1', now);
  assert.equal(t.retryAfterMs('alice', '10.0.0.1', now), 100);
  assert.equal(t.retryAfterMs('alice', '10.0.0.1', now + 100), 0, 'the lock ends');
  t.failed('alice', '10.0.0.1', now);
  assert.equal(t.retryAfterMs('alice', '10.0.0.1', now), 200, 'doubling');
  assert.equal(t.retryAfterMs('alice', '10.0.0.2', now), 0, 'alice elsewhere is not locked out');
  assert.equal(t.retryAfterMs('bob', '10.0.0.1', now), 0, 'bob at that address is not locked yet');
  t.failed('bob', '10.0.0.1', now);
  assert.equal(t.retryAfterMs('carol', '10.0.0.1', now), 0, 'six failures from the address: its allowance is used up, not passed');
  t.failed('bob', '10.0.0.1', now);
  assert.equal(t.retryAfterMs('carol', '10.0.0.1', now), 100, 'past its own allowance, the address is locked for every user');
  for (let i = 0; i < 20; i++) t.failed('alice', '10.0.0.1', now);
  assert.equal(t.retryAfterMs('alice', '10.0.0.1', now), 1000, 'capped');
  t.succeeded('alice', '10.0.0.1');
  assert.equal(t.retryAfterMs('alice', '10.0.0.3', now), 0);
});
