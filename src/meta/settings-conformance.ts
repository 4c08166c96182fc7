/**
 * ONE behavioural suite for every SettingsStore (SQLite, PostgreSQL): each implementation's test
 * calls runSettingsConformance with a factory for an empty store on a fresh database and a second
 * store on the same database (another process, or another node of a cluster).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MAX_SETTING_BYTES, type SettingsStore } from './settings.ts';

export interface SettingsFixture {
  settings: SettingsStore;
  /** Another store on the same database, as another node would open it. */
  other: () => Promise<SettingsStore>;
  cleanup: () => Promise<void>;
}

const T0 = 1_700_000_000_000;

/**
 * Start listening on `store` for a key for which `want` holds; resolves once the store listens (so
 * that a change made after it is heard, on PostgreSQL too), with a function awaiting that key.
 */
async function heard(store: SettingsStore, want: (key: string) => boolean): Promise<() => Promise<string>> {
  let found: (key: string) => void = () => undefined;
  const next = new Promise<string>((resolve) => (found = resolve));
  const stop = await store.watch((key) => {
    if (want(key)) found(key);
  });
  return async () => {
    const key = await next;
    stop();
    return key;
  };
}

export function runSettingsConformance(name: string, make: (now: () => number) => Promise<SettingsFixture>): void {
  describe(`settings store conformance: ${name}`, () => {
    let f: SettingsFixture;
    let s: SettingsStore;
    let time: number;
    beforeEach(async () => {
      time = T0;
      f = await make(() => time);
      s = f.settings;
    });
    afterEach(() => f.cleanup());

    it('stores a value with who set it and when, replaces it, and forgets it on delete', async () => {
      assert.equal(await s.get('quota/namespaces/acme'), undefined);
      const put = await s.put('quota/namespaces/acme', 1024, 'alice');
      assert.deepEqual(put, { key: 'quota/namespaces/acme', value: 1024, updatedBy: 'alice', updatedAt: T0 });
      assert.deepEqual(await s.get('quota/namespaces/acme'), put);
      time = T0 + 5;
      await s.put('quota/namespaces/acme', null, 'bob');
      assert.deepEqual(await s.get('quota/namespaces/acme'), { key: 'quota/namespaces/acme', value: null, updatedBy: 'bob', updatedAt: T0 + 5 }, 'null is a value, not an absence');
      assert.equal(await s.delete('quota/namespaces/acme'), true);
      assert.equal(await s.get('quota/namespaces/acme'), undefined);
      assert.equal(await s.delete('quota/namespaces/acme'), false, 'nothing left to delete');
    });

    it('reads back any JSON exactly as written: nesting, key order, unicode, NUL, big numbers', async () => {
      const value = { z: 1, a: [true, false, null, 'x\u0000y', 'é🐳', { nested: { deep: [] } }], big: 2 ** 53 - 1, neg: -0.5, empty: {} };
      await s.put('k', value, 'alice');
      const got = await s.get('k');
      assert.deepEqual(got?.value, value);
      assert.equal(JSON.stringify(got?.value), JSON.stringify(value), 'key order kept');
      for (const scalar of ['text', 0, false, []]) {
        await s.put('scalar', scalar, 'alice');
        assert.deepEqual((await s.get('scalar'))?.value, scalar);
      }
    });

    it('what a caller does to a value it read or wrote changes nothing stored', async () => {
      const value = { rules: ['v*'] };
      await s.put('k', value, 'alice');
      value.rules.push('changed after put');
      const got = await s.get('k');
      assert.deepEqual(got?.value, { rules: ['v*'] });
      (got?.value as { rules: string[] }).rules.push('changed after get');
      const listed = await s.list('');
      (listed[0]?.value as { rules: string[] }).rules.push('changed after list');
      assert.deepEqual((await s.get('k'))?.value, { rules: ['v*'] });
    });

    it('lists by prefix in key order, a prefix holding % and _ taken literally', async () => {
      for (const key of ['quota/namespaces/b', 'immutable/rules/1', 'quota/namespaces/a', 'quota/namespacesX', 'q%/x', 'q_/y', 'qa/z']) await s.put(key, key, 'alice');
      assert.deepEqual((await s.list('quota/namespaces/')).map((x) => x.key), ['quota/namespaces/a', 'quota/namespaces/b']);
      assert.deepEqual((await s.list('q%')).map((x) => x.key), ['q%/x']);
      assert.deepEqual((await s.list('q_')).map((x) => x.key), ['q_/y']);
      assert.deepEqual((await s.list('')).map((x) => x.key), ['immutable/rules/1', 'q%/x', 'q_/y', 'qa/z', 'quota/namespaces/a', 'quota/namespaces/b', 'quota/namespacesX']);
      assert.deepEqual(await s.list('nothing/'), []);
    });

    it('refuses a bad key or a value that is not JSON or too large, and stores nothing', async () => {
      for (const key of ['', 'with space', 'tab\t', 'é', 'x'.repeat(201), 'nul\u0000']) {
        await assert.rejects(s.put(key, 1, 'alice'), RangeError, JSON.stringify(key));
      }
      await assert.rejects(s.put('k', Number.NaN, 'alice'), TypeError);
      await assert.rejects(s.put('k', undefined as never, 'alice'), TypeError);
      await assert.rejects(s.put('k', 'x'.repeat(MAX_SETTING_BYTES), 'alice'), RangeError);
      await s.put('x'.repeat(200), 'x'.repeat(MAX_SETTING_BYTES - 2), 'alice');
      assert.deepEqual((await s.list('')).map((x) => x.key), ['x'.repeat(200)]);
    });

    it('tells its watchers which key changed, on put and on delete, until they unsubscribe', async () => {
      const keys: string[] = [];
      const stop = await s.watch((key) => keys.push(key));
      const put = await heard(s, (k) => k === 'a');
      await s.put('a', 1, 'alice');
      await put();
      const del = await heard(s, (k) => k === 'b');
      await s.put('b', 1, 'alice');
      await s.delete('b');
      await del();
      stop();
      const later = await heard(s, (k) => k === 'c');
      await s.put('c', 1, 'alice');
      await later();
      assert.ok(keys.includes('a') && keys.includes('b') && !keys.includes('c'), JSON.stringify(keys));
    });

    it('a change made through one store is seen by another on the same database', async () => {
      const other = await f.other();
      assert.equal(await other.get('quota/default'), undefined, 'read first, so a store that caches holds the old state');
      assert.deepEqual(await other.list('quota/'), []);
      let seen = await heard(other, (k) => k === 'quota/default');
      await s.put('quota/default', 5, 'alice');
      await seen();
      assert.equal((await other.get('quota/default'))?.value, 5);
      assert.deepEqual((await other.list('quota/')).map((x) => x.value), [5]);
      seen = await heard(other, (k) => k === 'quota/default');
      await s.put('quota/default', 6, 'alice');
      await seen();
      assert.equal((await other.get('quota/default'))?.value, 6);
      seen = await heard(other, (k) => k === 'quota/default');
      await s.delete('quota/default');
      await seen();
      assert.equal(await other.get('quota/default'), undefined);
      seen = await heard(s, (k) => k === 'from-other');
      await other.put('from-other', true, 'bob');
      await seen();
      assert.equal((await s.get('from-other'))?.updatedBy, 'bob', 'both ways');
    });
  });
}
