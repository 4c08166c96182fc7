/**
 * ONE behavioural suite for garbage collection's store and the meta store's side of it (blob
 * writes, verified manifest pushes, mounts, conditional deletes), called by the SQLite and the
 * PostgreSQL test with a factory for an empty backend on the clock it is given.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { GcRules, GcStore } from './gc.ts';
import { MissingReferenceError, type MetaStore, type NewManifest } from './store.ts';

export interface GcFixture {
  meta: MetaStore;
  gc: GcStore;
  cleanup: () => Promise<void>;
}

const d = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;
const TTL = 30_000;

function manifest(digest: string, extra: Partial<NewManifest> = {}): NewManifest {
  return {
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100,
    artifactType: null,
    subject: null,
    annotations: null,
    createdAt: T0,
    blobs: [],
    children: [],
    ...extra,
  };
}

export function runGcConformance(name: string, make: (now: () => number) => Promise<GcFixture>): void {
  describe(`garbage collection store conformance: ${name}`, () => {
    let f: GcFixture;
    let meta: MetaStore;
    let gc: GcStore;
    let time: number;
    const rules = (untagged: GcRules['untagged'] = 'keep'): GcRules => ({ now: time, graceMs: HOUR, untagged });
    const mark = async (dryRun = false) => (await gc.markBlobs(undefined, 1000, rules(), TTL, dryRun)).dangling.map((b) => b.digest).sort();
    const review = async (untagged: GcRules['untagged'], dryRun = false) =>
      (await gc.reviewManifests(undefined, 1000, rules(untagged), dryRun)).candidates.map((c) => `${c.repository}@${c.digest.slice(7, 8)}:${c.reason}`).sort();

    beforeEach(async () => {
      time = T0;
      f = await make(() => time);
      ({ meta, gc } = f);
    });
    afterEach(async () => {
      await meta.close();
      await f.cleanup();
    });

    it('keeps a blob linked within the grace, then marks it: record, links and journal copy gone', async () => {
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 }, { journal: Buffer.from('x') });
      await meta.linkBlob('r/b', { digest: d('1'), size: 10 });
      assert.deepEqual(await mark(), [], 'young: kept');
      time += HOUR + 1;
      const page = await gc.markBlobs(undefined, 1000, rules(), TTL, true);
      assert.deepEqual(page.dangling, [{ digest: d('1'), size: 10, repositories: ['r/a', 'r/b'] }], 'dry run reports');
      assert.ok(await meta.getBlob(d('1')), 'a dry run changes nothing');
      assert.deepEqual(await mark(), [d('1')]);
      assert.equal(await meta.getBlob(d('1')), undefined);
      assert.equal(await meta.getRepositoryBlob('r/a', d('1')), undefined);
      assert.deepEqual(await meta.journaledBlobs(10), []);
      assert.deepEqual(await mark(), [], 'marked once');
      assert.deepEqual(await gc.queued(), { blobs: 0, manifests: 0 });
    });

    it('never marks a referenced blob; queues it again when its manifest goes', async () => {
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 });
      await meta.linkBlob('r/a', { digest: d('2'), size: 20 });
      await meta.putManifest('r/a', manifest(d('m'), { blobs: [d('1'), d('2')] }), 'latest');
      time += HOUR + 1;
      assert.deepEqual(await mark(), []);
      assert.deepEqual(await review('delete'), []);
      assert.deepEqual(await gc.queued(), { blobs: 0, manifests: 0 }, 'referenced blobs and tagged manifests leave the queues');
      assert.equal(await meta.deleteManifest('r/a', d('m')), true);
      assert.deepEqual(await mark(), [d('1'), d('2'), d('m')], "its blobs and its own bytes");
    });

    it('a blob being written is not marked; a marked one cannot be written until its mark ends or expires', async () => {
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 });
      time += HOUR + 1;
      const token = await meta.beginBlobWrite(d('1'));
      assert.ok(token);
      assert.deepEqual(await mark(), [], 'being written');
      await meta.endBlobWrite(token);
      assert.deepEqual(await mark(), [d('1')]);
      assert.equal(await meta.beginBlobWrite(d('1')), undefined, 'its bytes are being deleted');
      time += TTL;
      const late = await meta.beginBlobWrite(d('1'));
      assert.ok(late, 'an expired mark protects nothing');
      assert.deepEqual(await gc.reclaimMarks(time, TTL), [], 'and is gone');
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 }, { writeToken: late });
      assert.ok(await meta.getBlob(d('1')));
    });

    it('an interrupted run\'s marks are renewed for deletion, or dropped when the blob is wanted again', async () => {
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 });
      await meta.linkBlob('r/a', { digest: d('2'), size: 20 });
      time += HOUR + 1;
      assert.deepEqual(await mark(), [d('1'), d('2')]);
      time += TTL * 2;
      const token = await meta.beginBlobWrite(d('2'));
      assert.ok(token);
      await meta.linkBlob('r/a', { digest: d('2'), size: 20 }, { writeToken: token });
      const marks = await gc.reclaimMarks(time, TTL);
      assert.deepEqual(marks, [{ digest: d('1'), size: 10, expiresAt: time + TTL }]);
      assert.equal(await meta.beginBlobWrite(d('1')), undefined, 'renewed');
      await gc.finishBlobs([d('1')]);
      assert.deepEqual(await gc.reclaimMarks(time, TTL), []);
      assert.ok(await meta.beginBlobWrite(d('1')));
    });

    it('a verified manifest push and a mount fail once a referenced blob is marked', async () => {
      await meta.linkBlob('r/a', { digest: d('1'), size: 10 });
      time += HOUR + 1;
      assert.deepEqual(await mark(), [d('1')]);
      await assert.rejects(
        meta.putManifest('r/a', manifest(d('m'), { blobs: [d('1')] }), 'latest', { verifyReferences: true }),
        (e: unknown) => e instanceof MissingReferenceError && e.digest === d('1') && e.kind === 'blob',
      );
      assert.equal(await meta.resolveTag('r/a', 'latest'), undefined, 'nothing recorded');
      await assert.rejects(
        meta.putManifest('r/a', manifest(d('i'), { children: [d('c')] }), undefined, { verifyReferences: true }),
        (e: unknown) => e instanceof MissingReferenceError && e.kind === 'manifest',
      );
      assert.equal(await meta.linkExisting('r/b', d('1')), undefined);
      await meta.linkBlob('r/a', { digest: d('3'), size: 3 });
      assert.deepEqual(await meta.linkExisting('r/b', d('3')), { digest: d('3'), size: 3 });
      assert.ok(await meta.getRepositoryBlob('r/b', d('3')));
    });

    it('untagged manifests: kept, or collected past the grace; never an index child or a live referrer', async () => {
      for (const c of ['1', '2']) await meta.linkBlob('r/a', { digest: d(c), size: 1 });
      await meta.putManifest('r/a', manifest(d('m'), { blobs: [d('1')] }), 'v1');
      await meta.putManifest('r/a', manifest(d('c'), { blobs: [d('2')] }));
      await meta.putManifest('r/a', manifest(d('i'), { mediaType: 'application/vnd.oci.image.index.v1+json', children: [d('c')] }), 'multi');
      await meta.putManifest('r/a', manifest(d('s'), { subject: d('m') }));
      await meta.putManifest('r/a', manifest(d('u')));
      assert.deepEqual(await review('delete'), [], 'all within the grace');
      time += HOUR + 1;
      assert.deepEqual(await review('keep'), []);
      assert.deepEqual(await review('delete', true), ['r/a@u:untagged']);
      assert.equal(await meta.deleteTag('r/a', 'v1'), true);
      assert.deepEqual(await review('delete'), ['r/a@m:untagged', 'r/a@u:untagged']);
      assert.equal(await meta.deleteManifest('r/a', d('i'), rules('delete')), false, 'tagged: not collectable');
      assert.equal(await meta.deleteManifest('r/a', d('c'), rules('delete')), false, 'an index child');
      assert.equal(await meta.deleteManifest('r/a', d('s'), rules('delete')), false, 'its subject lives');
      assert.equal(await meta.deleteManifest('r/a', d('m'), rules('delete')), true);
      assert.deepEqual(await review('keep'), ['r/a@s:orphaned-referrer'], 'a referrer whose subject is gone goes whatever the untagged rule');
      assert.equal(await meta.deleteTag('r/a', 'multi'), true);
      assert.equal(await meta.deleteManifest('r/a', d('i'), rules('delete')), true);
      assert.deepEqual(await review('delete'), ['r/a@c:untagged', 'r/a@s:orphaned-referrer', 'r/a@u:untagged']);
    });

    it('records runs, newest first', async () => {
      const a = await gc.startRun({ startedAt: T0, trigger: 'cli', dryRun: true, node: 'n1' });
      const b = await gc.startRun({ startedAt: T0 + 5, trigger: 'schedule', dryRun: false, node: 'n2' });
      await gc.finishRun(a, T0 + 1, { blobs: 1 });
      const runs = await gc.listRuns(10);
      assert.deepEqual(runs.map((r) => [r.id, r.trigger, r.dryRun, r.finishedAt, r.report]), [
        [b, 'schedule', false, null, null],
        [a, 'cli', true, T0 + 1, { blobs: 1 }],
      ]);
      assert.equal((await gc.listRuns(1)).length, 1);
    });
  });
}
