/**
 * ONE behavioural suite for every ReplicationStore (SQLite, PostgreSQL): each implementation's test
 * calls runReplicationStoreConformance with a factory for an empty store on a fresh database and
 * a second store on the same database (another node, on a connection of its own).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EMPTY_COUNTS, MAX_FAILURES, type ReplicationStore, type RunCounts, type RunFailure, type RunTrigger } from './model.ts';

export interface ReplicationStoreFixture {
  store: ReplicationStore;
  /** Another store on the same database, as another node would open it. */
  other: () => Promise<ReplicationStore>;
  cleanup: () => Promise<void>;
}

const T0 = 1_700_000_000_000;
const LEASE = 60_000;
const INTERRUPTED = 'interrupted: the node running it stopped';

const run = (over: { rule?: string; trigger?: RunTrigger; scope?: string | null; node?: string } = {}) => ({
  rule: 'nightly',
  trigger: 'schedule' as RunTrigger,
  scope: null,
  node: 'node-a',
  ...over,
});

const counts = (over: Partial<RunCounts> = {}): RunCounts => ({ ...EMPTY_COUNTS, ...over });
const failures = (n: number, prefix = 'repo'): RunFailure[] => Array.from({ length: n }, (_, i) => ({ what: `${prefix}${i}:latest`, reason: `reason ${i}` }));

export function runReplicationStoreConformance(name: string, make: () => Promise<ReplicationStoreFixture>): void {
  describe(`replication store conformance: ${name}`, () => {
    let f: ReplicationStoreFixture;
    let s: ReplicationStore;
    beforeEach(async () => {
      f = await make();
      s = f.store;
    });
    afterEach(async () => f.cleanup());

    it('starts a run of a rule once while its lease holds; other rules start beside it', async () => {
      const a = await s.start(run(), T0, T0 + LEASE);
      assert.ok(a);
      assert.deepEqual(a, { id: a.id, rule: 'nightly', trigger: 'schedule', status: 'running', counts: EMPTY_COUNTS, failures: [], scope: null, startedAt: T0, finishedAt: null, node: 'node-a' });
      assert.deepEqual(await s.get(a.id), a);
      const other = await f.other();
      assert.equal(await other.start(run({ node: 'node-b', trigger: 'manual' }), T0 + 1, T0 + LEASE), undefined, 'another node');
      assert.equal(await s.start(run({ trigger: 'manual' }), T0 + 2, T0 + LEASE), undefined, 'the same node: one run of a rule at a time');
      assert.equal(await s.start(run(), T0 + LEASE, T0 + 2 * LEASE), undefined, 'the lease holds until its last millisecond');
      const b = await other.start(run({ rule: 'weekly', node: 'node-b' }), T0 + 3, T0 + LEASE);
      assert.equal(b?.rule, 'weekly');
      assert.ok(b !== undefined && b.id > a.id);
      assert.equal((await s.get(a.id))?.status, 'running', 'nothing happened to the running run');
      assert.equal(await s.get(999_999), undefined);
    });

    it('gives a rule started by two nodes at once to exactly one of them', async () => {
      const other = await f.other();
      const rules = ['r0', 'r1', 'r2', 'r3', 'r4'];
      const results = await Promise.all(rules.flatMap((rule) => [s.start(run({ rule }), T0, T0 + LEASE), other.start(run({ rule, node: 'node-b' }), T0, T0 + LEASE)]));
      for (const [i, rule] of rules.entries()) {
        const started = [results[2 * i], results[2 * i + 1]].filter((r) => r !== undefined);
        assert.equal(started.length, 1, rule);
        assert.deepEqual((await s.list(rule)).map((r) => r.id), [started[0]?.id], rule);
      }
    });

    it('ends a run whose node stopped as failed (interrupted), keeping what it recorded, then starts the new one', async () => {
      const a = await s.start(run(), T0, T0 + 10);
      assert.ok(a);
      assert.equal(await s.progress(a.id, 'node-a', counts({ copied: 3, failed: 1, bytes: 900 }), [{ what: 'alice/app:v1', reason: 'unauthorized' }], T0 + 20), true);
      const other = await f.other();
      assert.equal(await other.start(run({ node: 'node-b' }), T0 + 15, T0 + 100), undefined, 'the lease was extended');
      const b = await other.start(run({ node: 'node-b' }), T0 + 21, T0 + 100);
      assert.ok(b);
      assert.notEqual(b.id, a.id);
      assert.equal(b.node, 'node-b');
      const ended = await s.get(a.id);
      assert.equal(ended?.status, 'failed');
      assert.equal(ended?.finishedAt, T0 + 21);
      assert.deepEqual(ended?.counts, counts({ copied: 3, failed: 1, bytes: 900 }));
      assert.deepEqual(ended?.failures, [{ what: 'alice/app:v1', reason: 'unauthorized' }, { what: '', reason: INTERRUPTED }]);
      assert.equal(await s.progress(a.id, 'node-a', counts(), [], T0 + 200), false, 'the old node lost it');
      assert.equal(await s.finish(a.id, 'node-a', 'succeeded', counts(), [], T0 + 22), false);
      assert.equal((await s.get(a.id))?.status, 'failed');
    });

    it('keeps the interruption even when the run had recorded all the failures it keeps', async () => {
      const a = await s.start(run(), T0, T0 + 10);
      assert.ok(a);
      await s.progress(a.id, 'node-a', counts({ failed: 500 }), failures(500), T0 + 10);
      await s.start(run({ node: 'node-b' }), T0 + 11, T0 + 100);
      const ended = await s.get(a.id);
      assert.equal(ended?.failures.length, MAX_FAILURES);
      assert.deepEqual(ended?.failures.slice(0, MAX_FAILURES - 1), failures(MAX_FAILURES - 1));
      assert.equal(ended?.failures.at(-1)?.reason, INTERRUPTED);
    });

    it('runs onpush runs (scoped) beside everything, and ends a stopped one when the rule starts again', async () => {
      const full = await s.start(run(), T0, T0 + LEASE);
      assert.ok(full);
      const other = await f.other();
      const push1 = await other.start(run({ trigger: 'onpush', scope: 'alice/app:v1', node: 'node-b' }), T0 + 1, T0 + 10);
      const push2 = await s.start(run({ trigger: 'onpush', scope: 'alice/app:v1' }), T0 + 2, T0 + LEASE);
      assert.ok(push1 && push2, 'a running full run does not block onpush runs, nor one onpush run another');
      assert.equal(push1.scope, 'alice/app:v1');
      assert.equal(push1.trigger, 'onpush');
      assert.equal(await s.finish(full.id, 'node-a', 'succeeded', counts(), [], T0 + 3), true);
      const again = await s.start(run({ trigger: 'manual' }), T0 + 4, T0 + LEASE);
      assert.ok(again, 'running onpush runs do not block a full run');
      // push1's node stopped: the rule's next start ends it
      assert.ok(await s.start(run({ trigger: 'onpush', scope: 'bob/tool:1' }), T0 + 11, T0 + LEASE));
      const stopped = await s.get(push1.id);
      assert.equal(stopped?.status, 'failed');
      assert.deepEqual(stopped?.failures, [{ what: 'alice/app:v1', reason: INTERRUPTED }]);
      assert.equal((await s.get(push2.id))?.status, 'running', 'its lease holds');
      assert.equal((await s.get(again.id))?.status, 'running');
    });

    it('records progress only for the node holding a running run', async () => {
      const a = await s.start(run(), T0, T0 + LEASE);
      assert.ok(a);
      const c = counts({ copied: 1, skipped: 2, failed: 1, deleted: 1, bytes: 12_345_678_901 });
      assert.equal(await s.progress(a.id, 'node-a', c, [{ what: 'alice/app:v1', reason: 'manifest unknown' }], T0 + 2 * LEASE), true);
      const now = await s.get(a.id);
      assert.deepEqual(now?.counts, c);
      assert.deepEqual(now?.failures, [{ what: 'alice/app:v1', reason: 'manifest unknown' }]);
      assert.equal(now?.status, 'running');
      assert.equal(await s.start(run({ node: 'node-b' }), T0 + LEASE + 1, T0 + 3 * LEASE), undefined, 'the lease was extended');
      assert.equal(await s.progress(a.id, 'node-b', counts({ copied: 9 }), [], T0 + 3 * LEASE), false, 'not its run');
      assert.equal(await s.progress(999_999, 'node-a', c, [], T0 + 3 * LEASE), false);
      assert.deepEqual((await s.get(a.id))?.counts, c);
      await s.finish(a.id, 'node-a', 'succeeded', c, [], T0 + 5);
      assert.equal(await s.progress(a.id, 'node-a', counts({ copied: 9 }), [], T0 + 3 * LEASE), false, 'finished');
      assert.deepEqual((await s.get(a.id))?.counts, c);
    });

    it('finishes a run only for its holder, once, keeping the first failures, each text cut short', async () => {
      const a = await s.start(run({ trigger: 'manual' }), T0, T0 + LEASE);
      assert.ok(a);
      const many = failures(MAX_FAILURES + 20);
      many[0] = { what: 'w'.repeat(5000), reason: `${'r'.repeat(999)}😀 and more` };
      many[1] = { what: 'alice/app:v1', reason: 'a NUL \0, a quote " and a newline\n' };
      const c = counts({ copied: 5, failed: MAX_FAILURES + 20, bytes: 10 });
      assert.equal(await s.finish(a.id, 'node-b', 'partial', c, many, T0 + 5), false, 'not its run');
      assert.equal(await s.finish(a.id, 'node-a', 'partial', c, many, T0 + 5), true);
      assert.equal(await s.finish(a.id, 'node-a', 'failed', counts(), [], T0 + 6), false, 'a finished run stays finished');
      const done = await s.get(a.id);
      assert.equal(done?.status, 'partial');
      assert.equal(done?.finishedAt, T0 + 5);
      assert.deepEqual(done?.counts, c, 'the counts have every failure');
      assert.equal(done?.failures.length, MAX_FAILURES);
      assert.deepEqual(done?.failures.slice(2), many.slice(2, MAX_FAILURES), 'the first ones');
      assert.equal(done?.failures[0]?.what, 'w'.repeat(1000));
      assert.equal(done?.failures[0]?.reason, 'r'.repeat(999), 'cut before a character, never inside it');
      assert.deepEqual(done?.failures[1], many[1]);
      const next = await s.start(run(), T0 + 7, T0 + LEASE);
      assert.ok(next, 'a finished run blocks nothing');
      assert.equal(await s.finish(999_999, 'node-a', 'failed', counts(), [], T0), false);
    });

    it('lists a rule\'s runs newest first, in pages, and the newest run of each rule named', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await s.start(run(), T0 + i, T0 + i + LEASE);
        assert.ok(r);
        ids.push(r.id);
        await s.finish(r.id, 'node-a', i % 2 === 0 ? 'succeeded' : 'failed', counts({ copied: i }), [], T0 + i);
      }
      const weekly = await s.start(run({ rule: 'weekly' }), T0, T0 + LEASE);
      assert.ok(weekly);
      const [a, b, c, d] = ids;
      assert.deepEqual((await s.list('nightly')).map((r) => r.id), [d, c, b, a]);
      assert.deepEqual((await s.list('nightly', { limit: 2 })).map((r) => r.id), [d, c]);
      assert.deepEqual((await s.list('nightly', { limit: 2, before: c })).map((r) => r.id), [b, a]);
      assert.deepEqual(await s.list('nightly', { before: a }), []);
      assert.deepEqual(await s.list('nope'), []);
      assert.equal((await s.list('nightly'))[0]?.counts.copied, 3);
      const latest = await s.latest(['nightly', 'weekly', 'nope']);
      assert.deepEqual([...latest.keys()].sort(), ['nightly', 'weekly']);
      assert.deepEqual(latest.get('nightly'), await s.get(d ?? 0));
      assert.deepEqual(latest.get('weekly'), weekly);
      assert.deepEqual([...(await s.latest(['weekly'])).keys()], ['weekly']);
      assert.equal((await s.latest([])).size, 0);
      // an onpush run is a run of its rule like any other
      const push = await s.start(run({ scope: 'alice/app:v1', trigger: 'onpush' }), T0 + 9, T0 + LEASE);
      assert.equal((await s.latest(['nightly'])).get('nightly')?.id, push?.id);
    });

    it('prunes a rule\'s ended runs beyond the newest kept, leaving runs still going and other rules', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await s.start(run({ rule: 'busy', trigger: 'manual' }), T0 + i, T0 + LEASE);
        assert.ok(r !== undefined);
        await s.finish(r.id, 'node-a', 'succeeded', counts(), [], T0 + i);
        ids.push(r.id);
      }
      const going = await s.start(run({ rule: 'busy', trigger: 'onpush', scope: 'a/b:1' }), T0 + 10, T0 + LEASE);
      const other = await s.start(run({ rule: 'quiet', trigger: 'manual' }), T0 + 11, T0 + LEASE);
      assert.ok(going !== undefined && other !== undefined);
      assert.equal(await s.prune('busy', 2), 4, 'the five ended but the newest one (the running run counts among the two kept)');
      assert.deepEqual((await s.list('busy')).map((r) => r.id), [going.id, ids[4]]);
      assert.equal(await s.prune('busy', 2), 0);
      assert.equal(await s.prune('busy', 0), 1, 'a run still going is never pruned');
      assert.deepEqual((await s.list('busy')).map((r) => r.id), [going.id]);
      assert.equal((await s.list('quiet')).length, 1);
      assert.equal(await s.prune('none', 0), 0);
    });
  });
}
