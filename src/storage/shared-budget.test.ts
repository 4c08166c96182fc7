import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedBudget } from './shared-budget.ts';

describe('SharedBudget', () => {
  it('gives one user the most, shares the total among several, and never goes below the least', () => {
    const b = new SharedBudget(32, 1, 8);
    assert.equal(b.share(), 8, 'nobody yet: a newcomer gets the most');
    b.enter();
    assert.equal(b.share(), 8);
    for (let i = 0; i < 7; i++) b.enter();
    assert.equal(b.share(), 4, '8 users share 32');
    for (let i = 0; i < 56; i++) b.enter();
    assert.equal(b.share(), 1, '64 users: the least each');
    for (let i = 0; i < 70; i++) b.leave();
    assert.equal(b.share(), 8, 'leaving more than entered does not go negative');
  });
});
