/**
 * ONE behavioural suite for every StorageUsageStore. The factory gives an empty database's meta
 * store (content goes in through it, as the registry's does) and the usage store over the same data.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, NewManifest } from './store.ts';
import { usageNamespaceOf, type StorageUsageStore } from './storage-usage.ts';

export interface StorageUsageFixture {
  meta: MetaStore;
  usage: StorageUsageStore;
  cleanup: () => Promise<void>;
}

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function manifest(digest: string, blobs: string[]): NewManifest {
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  return { digest, mediaType, size: 1000, artifactType: null, subject: null, annotations: null, createdAt: 1, blobs, children: [] };
}

export function runStorageUsageConformance(name: string, make: () => Promise<StorageUsageFixture>): void {
  describe(`storage usage conformance: ${name}`, () => {
    let f: StorageUsageFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.meta.close();
      await f.cleanup();
    });

    it('is empty for an empty registry', async () => {
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 0, blobs: 0 }, namespaces: [] });
      assert.deepEqual(await f.usage.samples(0), []);
    });

    it('counts distinct blobs per namespace, and once in the total', async () => {
      // alice/a and alice/b share layer 1: once for alice; bob/c links it too: once more for bob, once in the total.
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/a', { digest: d('2'), size: 20 });
      await f.meta.linkBlob('alice/b', { digest: d('1'), size: 100 });
      await f.meta.putManifest('alice/b', manifest(d('m'), [d('1')]), 'latest');
      await f.meta.linkBlob('bob/c', { digest: d('1'), size: 100 });
      // One-component names and library/* are the same namespace; deeper names count under their first component.
      await f.meta.linkBlob('ubuntu', { digest: d('3'), size: 7 });
      await f.meta.linkBlob('library/debian', { digest: d('4'), size: 3 });
      await f.meta.linkBlob('acme/team/app', { digest: d('5'), size: 1 });
      const usage = await f.usage.usage();
      assert.deepEqual(usage.total, { bytes: 100 + 20 + 1000 + 7 + 3 + 1, blobs: 6 });
      assert.deepEqual(usage.namespaces, [
        { namespace: 'alice', bytes: 1120, repositories: 2 },
        { namespace: 'bob', bytes: 100, repositories: 1 },
        { namespace: 'library', bytes: 10, repositories: 2 },
        { namespace: 'acme', bytes: 1, repositories: 1 },
      ]);
      for (const repo of ['ubuntu', 'library/debian', 'acme/team/app']) {
        assert.ok(usage.namespaces.some((n) => n.namespace === usageNamespaceOf(repo)), `SQL and usageNamespaceOf agree on ${repo}`);
      }
    });

    it('namespaceUsage and namespaceLinks: one namespace as usage() counts it, and whether it links a blob', async () => {
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/b/c', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('alice/b/c', { digest: d('2'), size: 20 });
      await f.meta.linkBlob('alice0/x', { digest: d('3'), size: 5 });
      await f.meta.linkBlob('alice-x/y', { digest: d('4'), size: 6 });
      await f.meta.linkBlob('ubuntu', { digest: d('5'), size: 7 });
      await f.meta.linkBlob('library/debian', { digest: d('6'), size: 3 });
      const usage = await f.usage.usage();
      for (const ns of ['alice', 'alice0', 'alice-x', 'library', 'nobody', 'alic']) {
        const expected = usage.namespaces.find((n) => n.namespace === ns)?.bytes ?? 0;
        assert.equal(await f.usage.namespaceUsage(ns), expected, ns);
      }
      assert.equal(await f.usage.namespaceUsage('alice'), 120);
      assert.equal(await f.usage.namespaceLinks('alice', d('2')), true);
      assert.equal(await f.usage.namespaceLinks('alice', d('3')), false, "alice0's blob is not alice's");
      assert.equal(await f.usage.namespaceLinks('alice', d('9')), false);
      assert.equal(await f.usage.namespaceLinks('library', d('5')), true);
      assert.equal(await f.usage.namespaceLinks('library', d('6')), true);
      await f.meta.unlinkBlob('alice/b/c', d('2'));
      assert.equal(await f.usage.namespaceUsage('alice'), 100);
      assert.equal(await f.usage.namespaceLinks('alice', d('2')), false);
    });

    it('stops counting a blob once it is unlinked everywhere', async () => {
      await f.meta.linkBlob('alice/a', { digest: d('1'), size: 100 });
      await f.meta.linkBlob('bob/b', { digest: d('1'), size: 100 });
      await f.meta.unlinkBlob('alice/a', d('1'));
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 100, blobs: 1 }, namespaces: [{ namespace: 'bob', bytes: 100, repositories: 1 }] });
      await f.meta.unlinkBlob('bob/b', d('1'));
      assert.deepEqual(await f.usage.usage(), { total: { bytes: 0, blobs: 0 }, namespaces: [] });
    });

    it('records samples, replaces one taken at the same time, lists them since a time, and prunes old ones', async () => {
      await f.usage.recordSample({ at: 1000, total: 10, namespaces: { alice: 6, bob: 4 } });
      await f.usage.recordSample({ at: 2000, total: 12, namespaces: { alice: 12 } });
      await f.usage.recordSample({ at: 3000, total: 1, namespaces: {} });
      await f.usage.recordSample({ at: 3000, total: 0, namespaces: { carol: 0 } });
      assert.deepEqual(await f.usage.samples(0), [
        { at: 1000, total: 10, namespaces: { alice: 6, bob: 4 } },
        { at: 2000, total: 12, namespaces: { alice: 12 } },
        { at: 3000, total: 0, namespaces: { carol: 0 } },
      ]);
      assert.deepEqual((await f.usage.samples(2000)).map((s) => s.at), [2000, 3000]);
      await f.usage.pruneSamples(3000);
      assert.deepEqual((await f.usage.samples(0)).map((s) => s.at), [3000]);
    });
  });
}
