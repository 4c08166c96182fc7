/**
 * ONE behavioural suite for every ReplicationRuleStore (SQLite, PostgreSQL): each
 * implementation's test calls runReplicationRuleStoreConformance with a factory for an empty
 * database's rule store, its run store, and another node's rule store on the same database.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ReplicationRuleStore, ReplicationStore, StoredRule } from './model.ts';

export interface ReplicationRuleStoreFixture {
  rules: ReplicationRuleStore;
  runs: ReplicationStore;
  /** Another rule store on the same database, as another node would open it. */
  other: () => Promise<ReplicationRuleStore>;
  cleanup: () => Promise<void>;
}

const T0 = 1_700_000_000_000;

const stored = (name: string, over: Partial<StoredRule> = {}): StoredRule => ({
  name,
  spec: JSON.stringify({ name, direction: 'pull', remote: { url: 'https://r.example' } }),
  sealedPassword: null,
  createdBy: 'admin',
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

export function runReplicationRuleStoreConformance(name: string, make: () => Promise<ReplicationRuleStoreFixture>): void {
  describe(`replication rule store conformance: ${name}`, () => {
    let f: ReplicationRuleStoreFixture;
    let s: ReplicationRuleStore;
    beforeEach(async () => {
      f = await make();
      s = f.rules;
    });
    afterEach(async () => f.cleanup());

    it('creates, reads back exactly, and lists by name', async () => {
      assert.deepEqual(await s.list(), []);
      const b = stored('b-rule', { sealedPassword: 'v1:sealed', spec: '{"x":"ü \\u0001"}' });
      assert.equal(await s.create(b, 10), 'created');
      assert.equal(await s.create(stored('a-rule'), 10), 'created');
      assert.deepEqual(await s.get('b-rule'), b);
      assert.deepEqual((await s.list()).map((r) => r.name), ['a-rule', 'b-rule']);
      assert.equal(await s.get('c-rule'), undefined);
    });

    it('refuses a second rule of a name, keeping the first', async () => {
      assert.equal(await s.create(stored('one', { createdBy: 'first' }), 10), 'created');
      assert.equal(await s.create(stored('one', { createdBy: 'second' }), 10), 'exists');
      assert.equal((await s.get('one'))?.createdBy, 'first');
    });

    it('refuses a rule past the cap, also when two nodes create at once', async () => {
      const other = await f.other();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? s : other).create(stored(`r${i}`), 4)));
      assert.equal(results.filter((r) => r === 'created').length, 4);
      assert.equal(results.filter((r) => r === 'full').length, 2);
      assert.equal((await s.list()).length, 4);
    });

    it('replaces a definition and its password, keeping who made it and when', async () => {
      await s.create(stored('one', { sealedPassword: 'v1:old' }), 10);
      assert.equal(await s.replace({ name: 'one', spec: '{"new":true}', sealedPassword: null, updatedAt: T0 + 5 }), true);
      assert.deepEqual(await s.get('one'), { ...stored('one'), spec: '{"new":true}', sealedPassword: null, updatedAt: T0 + 5 });
      assert.equal(await s.replace({ name: 'none', spec: '{}', sealedPassword: null, updatedAt: T0 }), false);
    });

    it('deletes a rule with its runs, and leaves other rules and their runs', async () => {
      await s.create(stored('gone'), 10);
      await s.create(stored('kept'), 10);
      const run = await f.runs.start({ rule: 'gone', trigger: 'manual', scope: null, node: 'n' }, T0, T0 + 60_000);
      const keptRun = await f.runs.start({ rule: 'kept', trigger: 'manual', scope: null, node: 'n' }, T0, T0 + 60_000);
      assert.ok(run !== undefined && keptRun !== undefined);
      assert.equal(await s.delete('gone'), true);
      assert.equal(await s.get('gone'), undefined);
      assert.deepEqual(await f.runs.list('gone'), []);
      // the run still going finds itself gone
      assert.equal(await f.runs.progress(run.id, 'n', { copied: 1, skipped: 0, failed: 0, deleted: 0, bytes: 1 }, [], T0 + 120_000), false);
      assert.equal((await f.runs.list('kept')).length, 1);
      assert.equal(await s.delete('gone'), false);
      // a rule of the same name starts with no history
      await s.create(stored('gone'), 10);
      assert.ok((await f.runs.start({ rule: 'gone', trigger: 'manual', scope: null, node: 'n' }, T0 + 1, T0 + 60_000)) !== undefined);
    });
  });
}
