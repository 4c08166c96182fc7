/**
 * ONE behavioural suite for every BuildStore (SQLite, PostgreSQL): each implementation's test
 * calls runBuildStoreConformance with a factory for an empty store on a fresh database, a second
 * store on the same database (another node), and a way to read a repository's automated flag.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BuildStore, NewBuild, StoredBuildRule } from './model.ts';

export interface BuildStoreFixture {
  store: BuildStore;
  /** Another store on the same database, as another node would open it. */
  other: () => Promise<BuildStore>;
  /** repository_info.is_automated of a repository, undefined when it has no row. */
  automated: (repository: string) => Promise<boolean | undefined>;
  cleanup: () => Promise<void>;
}

const T0 = 1_700_000_000_000;
/** Builds a rule may have queued, in these tests. */
const Q = 50;

export function rule(over: Partial<StoredBuildRule> = {}): StoredBuildRule {
  return {
    id: 'r1',
    repository: 'alice/app',
    gitUrl: 'https://git.example.com/alice/app.git',
    sourceType: 'branch',
    source: 'main',
    tag: 'latest',
    dockerfile: 'Dockerfile',
    context: '.',
    buildArgs: { A: '1' },
    poll: false,
    credential: null,
    createdBy: 'alice',
    createdAt: T0,
    updatedAt: T0,
    sealedHookSecret: 'v1:sealed-hook',
    sealedCredential: null,
    ...over,
  };
}

const build = (over: Partial<NewBuild> = {}): NewBuild => ({
  repository: 'alice/app',
  ruleId: 'r1',
  ref: 'main',
  commit: null,
  tag: 'latest',
  trigger: 'manual',
  requestedBy: 'alice',
  ...over,
});

export function runBuildStoreConformance(name: string, make: () => Promise<BuildStoreFixture>): void {
  describe(`build store conformance: ${name}`, () => {
    let f: BuildStoreFixture;
    let s: BuildStore;
    beforeEach(async () => {
      f = await make();
      s = f.store;
    });
    afterEach(async () => f.cleanup());

    it('keeps rules with their sealed secrets, replaces one by id, lists a repository\'s oldest first, deletes', async () => {
      await s.putRule(rule());
      await s.putRule(rule({ id: 'r0', createdAt: T0 - 1, poll: true, credential: 'token', sealedCredential: 'v1:sealed-token' }));
      await s.putRule(rule({ id: 'r9', repository: 'bob/other' }));
      assert.deepEqual(await s.getRule('r1'), rule());
      assert.deepEqual((await s.listRules('alice/app')).map((r) => r.id), ['r0', 'r1']);
      assert.deepEqual((await s.pollingRules()).map((r) => r.id), ['r0']);
      const r0 = await s.getRule('r0');
      assert.equal(r0?.credential, 'token');
      assert.equal(r0?.sealedCredential, 'v1:sealed-token');
      await s.putRule(rule({ tag: '{sourceref}', createdAt: T0 + 5, createdBy: 'bob', updatedAt: T0 + 9 }));
      const replaced = await s.getRule('r1');
      assert.equal(replaced?.tag, '{sourceref}');
      assert.equal(replaced?.createdAt, T0, 'a replaced rule keeps when it was made');
      assert.equal(replaced?.createdBy, 'bob', 'and is owned by whoever replaced it (builds push with their rights)');
      assert.equal(replaced?.updatedAt, T0 + 9);
      assert.equal(await s.deleteRule('r1'), true);
      assert.equal(await s.deleteRule('r1'), false);
      assert.equal(await s.getRule('r1'), undefined);
    });

    it('remembers the commits a rule last saw', async () => {
      await s.putRule(rule());
      assert.deepEqual(await s.seenCommits('r1'), {});
      await s.setSeenCommits('r1', { main: 'abc' });
      assert.deepEqual(await s.seenCommits('r1'), { main: 'abc' });
      assert.deepEqual(await s.seenCommits('nope'), {});
    });

    it('marks a repository automated while it has a rule, before and after its first push', async () => {
      await s.putRule(rule());
      assert.equal(await f.automated('alice/app'), true);
      await s.putRule(rule({ id: 'r2' }));
      await s.deleteRule('r1');
      assert.equal(await f.automated('alice/app'), true, 'one rule is left');
      await s.deleteRule('r2');
      assert.equal(await f.automated('alice/app'), false);
    });

    it('queues builds, hands the oldest to one claimer, and lists newest first', async () => {
      const a = await s.enqueue(build(), T0, Q);
      const b = await s.enqueue(build({ ref: 'v1.2', tag: '1.2', trigger: 'hook', commit: 'c0ffee' }), T0 + 1, Q);
      assert.equal(a.status, 'queued');
      assert.ok(b.id > a.id);
      assert.equal(b.commit, 'c0ffee');
      const other = await f.other();
      const first = await s.claim('node-a', T0 + 2, T0 + 60_000);
      const second = await other.claim('node-b', T0 + 2, T0 + 60_000);
      assert.equal(first?.id, a.id);
      assert.equal(first?.status, 'running');
      assert.equal(first?.startedAt, T0 + 2);
      assert.equal(second?.id, b.id);
      assert.equal(await s.claim('node-a', T0 + 3, T0 + 60_000), undefined);
      assert.deepEqual((await s.list('alice/app')).map((x) => x.id), [b.id, a.id]);
      assert.deepEqual((await s.list('alice/app', { before: b.id })).map((x) => x.id), [a.id]);
      assert.deepEqual((await s.list('alice/app', { limit: 1 })).map((x) => x.id), [b.id]);
      assert.deepEqual(await s.list('bob/other'), []);
    });

    it('queues one build per rule and reference: a repeated delivery points it at the newest commit; a full queue refuses', async () => {
      await s.putRule(rule());
      const a = await s.enqueue(build({ trigger: 'hook', commit: 'c1' }), T0, Q);
      const again = await s.enqueue(build({ trigger: 'hook', commit: 'c1' }), T0 + 1, Q);
      assert.equal(again.id, a.id, 'the same delivery again queues nothing more');
      const moved = await s.enqueue(build({ trigger: 'hook', commit: 'c2', tag: 'edge' }), T0 + 2, Q);
      assert.equal(moved.id, a.id);
      assert.equal(moved.commit, 'c2');
      assert.equal(moved.tag, 'edge');
      const other = await f.other();
      // two nodes take the same delivery at once: one build
      const [x, y] = await Promise.all([s.enqueue(build({ ref: 'dev', commit: 'd1' }), T0, Q), other.enqueue(build({ ref: 'dev', commit: 'd1' }), T0, Q)]);
      assert.equal(x.id, y.id);
      assert.equal((await s.list('alice/app')).length, 2);
      // once it runs, a delivery of its commit again queues nothing; a new commit, or a person, queues a new build
      const running = await s.claim('node-a', T0 + 3, T0 + 60_000);
      assert.equal(running?.id, a.id);
      assert.equal((await s.enqueue(build({ trigger: 'hook', commit: 'c2', tag: 'edge' }), T0 + 4, Q)).id, a.id, 'a replayed delivery');
      await s.finish(a.id, 'node-a', { status: 'succeeded', digest: 'sha256:x' }, T0 + 5);
      assert.equal((await s.enqueue(build({ trigger: 'poll', commit: 'c2' }), T0 + 6, Q)).id, a.id, 'built already');
      const byHand = await s.enqueue(build({ trigger: 'manual', commit: 'c2' }), T0 + 7, Q);
      assert.notEqual(byHand.id, a.id, 'a person may build a commit again');
      await s.requestCancel('alice/app', byHand.id, T0 + 8);
      const next = await s.enqueue(build({ trigger: 'hook', commit: 'c3' }), T0 + 9, Q);
      assert.ok(next.id > byHand.id);
      // a rule's queue is bounded
      await s.enqueue(build({ ref: 'v1' }), T0, 3);
      await assert.rejects(s.enqueue(build({ ref: 'v2' }), T0, 3), (err: Error & { code?: string }) => err.code === 'BERTH_BUILD_QUEUE_FULL');
      assert.equal((await s.enqueue(build({ ref: 'v1', commit: 'c9' }), T0, 3)).commit, 'c9', 'a queued reference still moves when the queue is full');
      assert.equal((await s.enqueue(build({ ruleId: 'r2', ref: 'v2' }), T0, 3)).status, 'queued', 'another rule has its own queue');
    });

    it('finishes a build only for its holder, with the digest or the error', async () => {
      const a = await s.enqueue(build(), T0, Q);
      await s.claim('node-a', T0, T0 + 60_000);
      await s.setCommit(a.id, 'abc123');
      assert.equal(await s.finish(a.id, 'node-b', { status: 'succeeded', digest: 'sha256:x' }, T0 + 5), false);
      assert.equal(await s.finish(a.id, 'node-a', { status: 'succeeded', digest: 'sha256:x' }, T0 + 5), true);
      const done = await s.get('alice/app', a.id);
      assert.equal(done?.status, 'succeeded');
      assert.equal(done?.digest, 'sha256:x');
      assert.equal(done?.commit, 'abc123');
      assert.equal(done?.finishedAt, T0 + 5);
      assert.equal(await s.finish(a.id, 'node-a', { status: 'failed', error: 'again' }, T0 + 6), false, 'a finished build stays finished');
      assert.equal(await s.get('bob/other', a.id), undefined, 'a build is read through its own repository');
      const b = await s.enqueue(build(), T0, Q);
      await s.claim('node-a', T0, T0 + 60_000);
      await s.finish(b.id, 'node-a', { status: 'failed', error: 'x'.repeat(5000) }, T0 + 7);
      const failed = await s.get('alice/app', b.id);
      assert.equal(failed?.status, 'failed');
      assert.ok((failed?.error?.length ?? 0) <= 2000);
    });

    it('cancels a queued build at once and asks a running one\'s holder through renew', async () => {
      const q = await s.enqueue(build(), T0, Q);
      const cancelled = await s.requestCancel('alice/app', q.id, T0 + 1);
      assert.equal(cancelled?.status, 'cancelled');
      assert.equal(await s.claim('node-a', T0 + 2, T0 + 60_000), undefined);
      const r = await s.enqueue(build(), T0, Q);
      await s.claim('node-a', T0, T0 + 60_000);
      assert.deepEqual(await s.renew(r.id, 'node-a', T0 + 70_000), { held: true, cancelRequested: false });
      assert.equal((await s.requestCancel('alice/app', r.id, T0 + 1))?.status, 'running');
      assert.deepEqual(await s.renew(r.id, 'node-a', T0 + 80_000), { held: true, cancelRequested: true });
      assert.deepEqual(await s.renew(r.id, 'node-b', T0 + 80_000), { held: false, cancelRequested: false });
      assert.equal(await s.requestCancel('bob/other', r.id, T0), undefined);
      assert.equal(await s.requestCancel('alice/app', 999_999, T0), undefined);
    });

    it('queues a build again when its node stopped, then fails it', async () => {
      const a = await s.enqueue(build(), T0, Q);
      await s.claim('node-a', T0, T0 + 10);
      const other = await f.other();
      assert.equal(await other.claim('node-b', T0 + 5, T0 + 100), undefined, 'the lease still holds');
      const again = await other.claim('node-b', T0 + 11, T0 + 100);
      assert.equal(again?.id, a.id);
      assert.deepEqual(await s.renew(a.id, 'node-a', T0 + 200), { held: false, cancelRequested: false }, 'the old holder lost it');
      assert.equal(await s.claim('node-a', T0 + 101, T0 + 200), undefined, 'two attempts: given up');
      const given = await s.get('alice/app', a.id);
      assert.equal(given?.status, 'failed');
      assert.match(given?.error ?? '', /interrupted/);
    });

    it('keeps a build\'s log in order from any chunk on', async () => {
      const a = await s.enqueue(build(), T0, Q);
      await s.appendLog(a.id, 0, 'STEP 1\n');
      await s.appendLog(a.id, 1, 'STEP 2\n');
      await s.appendLog(a.id, 2, 'done\n');
      assert.deepEqual(await s.readLog(a.id), [
        { seq: 0, text: 'STEP 1\n' },
        { seq: 1, text: 'STEP 2\n' },
        { seq: 2, text: 'done\n' },
      ]);
      assert.deepEqual((await s.readLog(a.id, 2)).map((c) => c.text), ['done\n']);
      assert.deepEqual(await s.readLog(a.id + 1), []);
    });
  });
}
