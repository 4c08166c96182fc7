/**
 * ONE behavioural suite for every FailureCounts implementation (memory, PostgreSQL): each
 * implementation's test calls runFailureCountsConformance with a factory for an empty store.
 * Answers are awaited, so the suite holds for stores that answer at once and for databases.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { FailureCounts, Failures } from './failure-store.ts';

export interface FailureCountsFixture {
  store: FailureCounts;
  cleanup: () => Promise<void>;
}

const T0 = 1_000_000;
const WINDOW = 1_000;

export function runFailureCountsConformance(name: string, make: () => Promise<FailureCountsFixture>): void {
  describe(`login failure counts conformance: ${name}`, () => {
    let f: FailureCountsFixture;
    let store: FailureCounts;
    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(() => f.cleanup());

    const read = async (keys: string[], now = T0): Promise<Record<string, Failures>> => Object.fromEntries(await store.read(keys, now - WINDOW));
    const record = async (keys: string[], now = T0): Promise<void> => {
      await store.record(keys, now, now - WINDOW);
    };

    it('counts failures per key, and reads only the keys asked for that have a count', async () => {
      assert.deepEqual(await read(['u:a', 'a:1']), {});
      assert.deepEqual(await read([]), {});
      await record(['a:1', 'u:a']);
      await record(['a:1'], T0 + 5);
      assert.deepEqual(await read(['a:1', 'u:a', 'g:a'], T0 + 5), { 'a:1': { failures: 2, lastAt: T0 + 5 }, 'u:a': { failures: 1, lastAt: T0 } });
      assert.deepEqual(await read(['u:a'], T0 + 5), { 'u:a': { failures: 1, lastAt: T0 } });
      await record([]);
    });

    it('forgets a count whose last failure is a window old: not read, and the next failure starts it again', async () => {
      await record(['k', 'other'], T0);
      await record(['k'], T0 + 500);
      assert.deepEqual(await read(['k', 'other'], T0 + WINDOW), { k: { failures: 2, lastAt: T0 + 500 } }, 'other is exactly a window old');
      assert.deepEqual(await read(['k'], T0 + 500 + WINDOW), {});
      await record(['k'], T0 + 500 + WINDOW);
      assert.deepEqual(await read(['k'], T0 + 500 + WINDOW), { k: { failures: 1, lastAt: T0 + 500 + WINDOW } });
    });

    it('never moves a last failure back (another node a little behind) but still counts it; counts a key given twice once', async () => {
      await record(['k'], T0 + 100);
      await record(['k', 'k'], T0 + 50);
      assert.deepEqual(await read(['k'], T0 + 100), { k: { failures: 2, lastAt: T0 + 100 } });
    });

    it('clears one key only', async () => {
      await record(['u:a', 'a:1', 'g:a']);
      await store.clear('u:a');
      await store.clear('never counted');
      assert.deepEqual(Object.keys(await read(['u:a', 'a:1', 'g:a'])).sort(), ['a:1', 'g:a']);
      await record(['u:a']);
      assert.deepEqual(await read(['u:a']), { 'u:a': { failures: 1, lastAt: T0 } });
    });

    it('counts every concurrent failure', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => record(i % 2 === 0 ? ['a:1', 'u:a', 'g:a'] : ['g:a', 'a:1', 'u:a'])));
      assert.deepEqual(Object.values(await read(['a:1', 'u:a', 'g:a'])).map((c) => c.failures), [40, 40, 40]);
    });

    it('keeps hostile keys apart and answers for them (NUL, very long, any script, SQL)', async () => {
      const keys = ['u:10.0.0.1\0alice', 'u:10.0.0.1\0alice\0', 'u:10.0.0.1', `g:${'x'.repeat(100_000)}`, 'g:Ålice 🦀', "g:' OR 1=1 --", 'g:\u0000', 'g:'];
      await record(keys);
      await record(keys.slice(0, 2));
      const counts = await read(keys);
      assert.deepEqual(keys.map((k) => counts[k]?.failures), [2, 2, 1, 1, 1, 1, 1, 1]);
      await store.clear(keys[0] ?? '');
      assert.equal((await read(keys))[keys[0] ?? ''], undefined);
    });
  });
}
