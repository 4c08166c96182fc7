import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepoCache } from './repo-cache.ts';

const value = (n: number): { n: number } => ({ n });

describe('RepoCache', () => {
  it('keeps values per repository and key', () => {
    const cache = new RepoCache<{ n: number }>(10, 60_000);
    cache.set('a', 'x', value(1));
    cache.set('b', 'x', value(2));
    assert.deepEqual(cache.get('a', 'x'), value(1));
    assert.deepEqual(cache.get('b', 'x'), value(2));
    assert.equal(cache.get('a', 'y'), undefined);
    cache.delete('a', 'x');
    assert.equal(cache.get('a', 'x'), undefined);
    assert.deepEqual(cache.get('b', 'x'), value(2));
  });

  it('forgets a repository on invalidate, and only that one', () => {
    const cache = new RepoCache<{ n: number }>(10, 60_000);
    cache.set('a', 'x', value(1));
    cache.set('b', 'x', value(2));
    cache.invalidate('a');
    assert.equal(cache.get('a', 'x'), undefined);
    assert.deepEqual(cache.get('b', 'x'), value(2));
    cache.set('a', 'x', value(3));
    assert.deepEqual(cache.get('a', 'x'), value(3), 'cached again once read again');
  });

  it('does not keep a value read before an invalidation or a clear', () => {
    const cache = new RepoCache<{ n: number }>(10, 60_000);
    const before = cache.generation('a');
    cache.invalidate('a');
    cache.set('a', 'x', value(1), before);
    assert.equal(cache.get('a', 'x'), undefined, 'read before the invalidation');
    const again = cache.generation('a');
    cache.clear();
    cache.set('a', 'x', value(2), again);
    assert.equal(cache.get('a', 'x'), undefined, 'read before the clear');
    const other = cache.generation('never-invalidated');
    cache.clear();
    cache.set('never-invalidated', 'x', value(3), other);
    assert.equal(cache.get('never-invalidated', 'x'), undefined, 'a repository never invalidated, read before a clear');
  });

  it('forgets everything on clear', () => {
    const cache = new RepoCache<{ n: number }>(10, 60_000);
    cache.set('a', 'x', value(1));
    cache.invalidate('b');
    cache.clear();
    assert.equal(cache.get('a', 'x'), undefined);
    cache.set('b', 'x', value(2));
    assert.deepEqual(cache.get('b', 'x'), value(2));
  });
});
