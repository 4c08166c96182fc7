import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyLru } from './lazy-lru.ts';

test('lazyLru keeps at most its number of entries, dropping the least recently used', () => {
  const cache = lazyLru<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1); // b is now the least recently used
  cache.set('c', 3);
  assert.equal(cache.size, 2);
  assert.equal(cache.has('b'), false);
  assert.deepEqual([...cache.keys()].sort(), ['a', 'c']);
});
