import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LoginThrottle } from './throttle.ts';

it('login throttle: free attempts, then doubling delays per user and per address, capped; success clears the user', () => {
  const t = new LoginThrottle({ freeAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    assert.equal(t.delayMs('alice', '10.0.0.1'), 0);
    t.failed('alice', '10.0.0.1');
  }
  assert.equal(t.delayMs('alice', '10.0.0.1'), 100);
  t.failed('alice', '10.0.0.1');
  assert.equal(t.delayMs('alice', '10.0.0.1'), 200);
  assert.equal(t.delayMs('alice', '10.0.0.2'), 200, 'the user is slowed down from any address');
  assert.equal(t.delayMs('bob', '10.0.0.1'), 200, 'the address is slowed down for any user');
  assert.equal(t.delayMs('bob', '10.0.0.9'), 0);
  for (let i = 0; i < 10; i++) t.failed('alice', '10.0.0.1');
  assert.equal(t.delayMs('alice', '10.0.0.3'), 1000, 'capped');
  t.succeeded('alice');
  assert.equal(t.delayMs('alice', '10.0.0.3'), 0);
  assert.equal(t.delayMs('alice', '10.0.0.1'), 1000, 'the guessing address stays slowed down');
});
