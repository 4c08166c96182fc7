/**
 * ONE behavioural suite for every BlobInventory implementation (SQLite, PostgreSQL): each
 * implementation's test calls runBlobInventoryConformance with a factory for an empty meta store
 * and the inventory over the same database.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BlobInventory } from './inventory.ts';
import type { MetaStore, NewManifest } from './store.ts';

export interface BlobInventoryFixture {
  meta: MetaStore;
  inventory: BlobInventory;
  /** Mark a digest as garbage collection does while it deletes the bytes (gc_blob_deleting). */
  markCollecting: (digest: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

const d = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;

function manifest(digest: string, blobs: string[], children: string[] = []): NewManifest {
  return {
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100,
    artifactType: null,
    subject: null,
    annotations: null,
    createdAt: 1,
    blobs,
    children,
  };
}

export function runBlobInventoryConformance(name: string, make: () => Promise<BlobInventoryFixture>): void {
  describe(`blob inventory conformance: ${name}`, () => {
    let f: BlobInventoryFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(() => f.cleanup());

    it('pages blob records in digest order, with totals', async () => {
      assert.deepEqual(await f.inventory.totals(), { blobs: 0, bytes: 0, journaled: 0 });
      assert.deepEqual(await f.inventory.blobs('', 10), []);
      for (const c of ['c', 'a', 'e', 'b', 'd']) await f.meta.linkBlob('r/one', { digest: d(c), size: c.charCodeAt(0) });
      await f.meta.linkBlob('r/two', { digest: d('f'), size: 3 * 2 ** 40 }, { journal: Buffer.from('f') });
      assert.deepEqual(await f.inventory.totals(), { blobs: 6, bytes: 97 + 98 + 99 + 100 + 101 + 3 * 2 ** 40, journaled: 1 });
      const first = await f.inventory.blobs('', 2);
      assert.deepEqual(first.map((b) => [b.digest, b.size]), [[d('a'), 97], [d('b'), 98]]);
      assert.ok(first.every((b) => typeof b.createdAt === 'number' && b.createdAt > 0));
      assert.deepEqual((await f.inventory.blobs(d('b'), 10)).map((b) => b.digest), [d('c'), d('d'), d('e'), d('f')]);
      assert.deepEqual(await f.inventory.blobs(d('f'), 10), []);
    });

    it('tells what needs a digest: manifests, references, children and links', async () => {
      await f.meta.linkBlob('r/app', { digest: d('1'), size: 1 });
      await f.meta.linkBlob('r/app', { digest: d('2'), size: 1 });
      await f.meta.putManifest('r/app', manifest(d('a'), [d('1'), d('2')]), 'v1');
      await f.meta.putManifest('r/app', manifest(d('b'), [], [d('a')]), 'index');
      await f.meta.linkBlob('r/other', { digest: d('1'), size: 1 });
      assert.deepEqual(await f.inventory.usesOf(d('1')), [
        { kind: 'link', repository: 'r/app' },
        { kind: 'blob', repository: 'r/app', manifest: d('a') },
        { kind: 'link', repository: 'r/other' },
      ]);
      assert.deepEqual(await f.inventory.usesOf(d('a')), [
        { kind: 'link', repository: 'r/app' },
        { kind: 'manifest', repository: 'r/app', manifest: d('a') },
        { kind: 'child', repository: 'r/app', manifest: d('b') },
      ]);
      assert.deepEqual(await f.inventory.usesOf(d('9')), []);
    });

    it('finds references to digests with no record, and children that are no manifest of the repository', async () => {
      await f.meta.linkBlob('r/app', { digest: d('1'), size: 1 });
      await f.meta.putManifest('r/app', manifest(d('a'), [d('1'), d('7')]));
      await f.meta.putManifest('r/app', manifest(d('b'), [], [d('a'), d('8')]));
      await f.meta.putManifest('r/zzz', manifest(d('c'), [d('1')], [d('a')]), 'x');
      assert.deepEqual(await f.inventory.danglingReferences(10), [
        { repository: 'r/app', manifest: d('a'), target: d('7'), kind: 'blob' },
        { repository: 'r/app', manifest: d('b'), target: d('8'), kind: 'child' },
        { repository: 'r/zzz', manifest: d('c'), target: d('a'), kind: 'child' },
      ]);
      assert.equal((await f.inventory.danglingReferences(1)).length, 1);
    });

    it('tells which digests garbage collection is deleting', async () => {
      await f.meta.linkBlob('r/one', { digest: d('a'), size: 1 });
      assert.equal(await f.inventory.collecting(d('a')), false);
      await f.markCollecting(d('b'));
      assert.equal(await f.inventory.collecting(d('b')), true);
      assert.equal(await f.inventory.collecting(d('c')), false);
    });

    it('pages journal entries with their bytes', async () => {
      await f.meta.linkBlob('r/one', { digest: d('b'), size: 2 }, { journal: Buffer.from('bb') });
      await f.meta.linkBlob('r/one', { digest: d('a'), size: 1 }, { journal: Buffer.from('a') });
      await f.meta.linkBlob('r/one', { digest: d('c'), size: 1 });
      const page = await f.inventory.journal('', 1);
      assert.deepEqual(page.map((e) => [e.digest, Buffer.from(e.data).toString()]), [[d('a'), 'a']]);
      assert.deepEqual((await f.inventory.journal(d('a'), 5)).map((e) => [e.digest, Buffer.from(e.data).toString()]), [[d('b'), 'bb']]);
    });

    it('forgets a blob no manifest needs, with its links and journal entry, and refuses one a manifest needs', async () => {
      await f.meta.linkBlob('r/one', { digest: d('1'), size: 1 }, { journal: Buffer.from('1') });
      await f.meta.linkBlob('r/two', { digest: d('1'), size: 1 });
      await f.meta.linkBlob('r/one', { digest: d('2'), size: 1 });
      await f.meta.putManifest('r/one', manifest(d('a'), [d('2')]), 'v1');
      assert.equal(await f.inventory.forgetBlob(d('1')), true);
      assert.equal(await f.meta.getBlob(d('1')), undefined);
      assert.equal(await f.meta.getRepositoryBlob('r/two', d('1')), undefined);
      assert.deepEqual(await f.inventory.journal('', 10), []);
      assert.equal(await f.inventory.forgetBlob(d('1')), false, 'no record any more');
      assert.equal(await f.inventory.forgetBlob(d('2')), false, 'a layer of a manifest');
      assert.equal(await f.inventory.forgetBlob(d('a')), false, 'a manifest');
      assert.ok(await f.meta.getRepositoryBlob('r/one', d('2')));
      assert.ok(await f.meta.getManifest('r/one', d('a')));
      assert.deepEqual((await f.inventory.blobs('', 10)).map((b) => b.digest), [d('2'), d('a')]);
    });
  });
}
