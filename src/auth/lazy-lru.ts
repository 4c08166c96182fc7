/**
 * LRU caches bounded by their number of entries without allocating for that number up front.
 * lru-cache's `max` preallocates its key, value and link arrays for `max` entries (and two more
 * for a TTL): about 3 MB at 100,000 entries, 5 MB with a TTL, held from start-up whether or not a
 * login ever fails. `maxSize` with a size of 1 per entry keeps the same bound and lets the arrays
 * grow as entries come.
 */
import { LRUCache } from 'lru-cache';

/** A cache of at most `entries` entries (least recently used dropped first), `ttl` ms each when given. */
export function lazyLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(entries: number, ttl?: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: entries, sizeCalculation: () => 1, ...(ttl !== undefined && { ttl }) });
}
