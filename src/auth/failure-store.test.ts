/** MemoryFailureCounts: the shared FailureCounts suite, and its bound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFailureCountsConformance } from './failure-store-conformance.ts';
import { MemoryFailureCounts } from './failure-store.ts';

runFailureCountsConformance('memory', () => Promise.resolve({ store: new MemoryFailureCounts(), cleanup: () => Promise.resolve() }));

describe('memory failure counts', () => {
  it('keeps at most max keys, dropping the least recently failed', () => {
    const store = new MemoryFailureCounts(2);
    store.record(['a'], 10, 0);
    store.record(['b'], 11, 0);
    store.record(['a'], 12, 0);
    store.record(['c'], 13, 0);
    assert.deepEqual([...store.read(['a', 'b', 'c'], 0).keys()], ['a', 'c']);
  });
});
