/**
 * ONE behavioural suite for every MetaStore implementation (SQLite now, PostgreSQL later): each
 * implementation's test calls runMetaStoreConformance with a factory for an empty store.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, NewManifest } from './store.ts';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

function manifest(digest: string, extra: Partial<NewManifest> = {}): NewManifest {
  return {
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100,
    artifactType: 'application/vnd.oci.image.config.v1+json',
    subject: null,
    annotations: null,
    createdAt: 1,
    blobs: [],
    children: [],
    ...extra,
  };
}

export function runMetaStoreConformance(name: string, make: () => Promise<{ store: MetaStore; cleanup: () => Promise<void> }>): void {
  describe(`meta store conformance: ${name}`, () => {
    let store: MetaStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('links blobs per repository', async () => {
      assert.equal(await store.getBlob(d('a')), undefined);
      await store.linkBlob('r/one', { digest: d('a'), size: 5 });
      assert.deepEqual(await store.getBlob(d('a')), { digest: d('a'), size: 5 });
      assert.deepEqual(await store.getRepositoryBlob('r/one', d('a')), { digest: d('a'), size: 5 });
      assert.equal(await store.getRepositoryBlob('r/two', d('a')), undefined);
      await store.linkBlob('r/one', { digest: d('a'), size: 5 });
      assert.equal(await store.unlinkBlob('r/one', d('a')), true);
      assert.equal(await store.unlinkBlob('r/one', d('a')), false);
      assert.equal(await store.unlinkBlob('r/none', d('a')), false);
      assert.equal(await store.getRepositoryBlob('r/one', d('a')), undefined);
      assert.ok(await store.getBlob(d('a')), 'the blob record stays for garbage collection to decide');
      assert.equal(await store.findLinkedBlob(d('a')), undefined, 'but it is no longer linked anywhere');
      await store.linkBlob('r/two', { digest: d('a'), size: 5 });
      assert.deepEqual(await store.findLinkedBlob(d('a')), { digest: d('a'), size: 5 });
    });

    it('records manifests with tags, and resolves them', async () => {
      await store.linkBlob('r/app', { digest: d('c'), size: 10 });
      await store.putManifest('r/app', manifest(d('m'), { blobs: [d('c')], annotations: { a: 'b' } }), 'v1');
      const byTag = await store.resolveTag('r/app', 'v1');
      assert.equal(byTag?.digest, d('m'));
      assert.deepEqual(byTag?.annotations, { a: 'b' });
      assert.equal((await store.getManifest('r/app', d('m')))?.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.ok(await store.getRepositoryBlob('r/app', d('m')), 'manifests are blobs of their repository');
      assert.equal(await store.getManifest('r/other', d('m')), undefined);
      assert.equal(await store.resolveTag('r/app', 'v2'), undefined);
      await store.putManifest('r/app', manifest(d('n')), 'v1');
      assert.equal((await store.resolveTag('r/app', 'v1'))?.digest, d('n'), 'a tag moves');
      assert.equal(await store.repositoryExists('r/app'), true);
      assert.equal(await store.repositoryExists('r/nope'), false);
    });

    it('lists tags and repositories in lexical order with pages', async () => {
      for (const repo of ['b/x', 'a/y', 'c/z']) await store.putManifest(repo, manifest(d('m')), 'latest');
      await store.linkBlob('d/blobs-only', { digest: d('e'), size: 1 });
      assert.deepEqual(await store.listRepositories({}), ['a/y', 'b/x', 'c/z']);
      assert.deepEqual(await store.listRepositories({ n: 2 }), ['a/y', 'b/x']);
      assert.deepEqual(await store.listRepositories({ last: 'a/y', n: 5 }), ['b/x', 'c/z']);
      for (const tag of ['b', 'A', 'a', '1']) await store.putManifest('a/y', manifest(d('m')), tag);
      assert.deepEqual(await store.listTags('a/y', {}), ['1', 'A', 'a', 'b', 'latest']);
      assert.deepEqual(await store.listTags('a/y', { last: 'A', n: 2 }), ['a', 'b']);
      assert.equal(await store.listTags('no/repo', {}), undefined);
      assert.deepEqual(await store.listTags('d/blobs-only', {}), []);
    });

    it('deletes tags, and manifests with their tags', async () => {
      await store.putManifest('r/app', manifest(d('m')), 'a');
      await store.putManifest('r/app', manifest(d('m')), 'b');
      assert.equal(await store.deleteTag('r/app', 'a'), true);
      assert.equal(await store.deleteTag('r/app', 'a'), false);
      assert.equal(await store.deleteManifest('r/app', d('m')), true);
      assert.equal(await store.resolveTag('r/app', 'b'), undefined);
      assert.equal(await store.getManifest('r/app', d('m')), undefined);
      assert.equal(await store.deleteManifest('r/app', d('m')), false);
      assert.deepEqual(await store.listRepositories({}), [], 'a repository without manifests leaves the catalog');
    });

    it('lists referrers of a subject, filtered by artifactType', async () => {
      await store.putManifest('r/app', manifest(d('s')));
      await store.putManifest('r/app', manifest(d('1'), { subject: d('s'), artifactType: 'sig', createdAt: 2 }));
      await store.putManifest('r/app', manifest(d('2'), { subject: d('s'), artifactType: 'sbom', createdAt: 3 }));
      await store.putManifest('r/other', manifest(d('3'), { subject: d('s'), artifactType: 'sig' }));
      assert.deepEqual((await store.listReferrers('r/app', d('s'))).map((m) => m.digest), [d('1'), d('2')]);
      assert.deepEqual((await store.listReferrers('r/app', d('s'), 'sbom')).map((m) => m.digest), [d('2')]);
      assert.deepEqual(await store.listReferrers('r/app', d('x')), []);
    });

    it('keeps upload sessions, and removes one with the blob that completes it', async () => {
      await store.createUpload({ id: 'u1', repo: 'r/app', startedAt: 10 });
      await store.createUpload({ id: 'u2', repo: 'r/app', startedAt: 20 });
      assert.deepEqual(await store.getUpload('u1'), { id: 'u1', repo: 'r/app', startedAt: 10 });
      await store.persistUpload('u1');
      assert.deepEqual(await store.getUpload('u1'), { id: 'u1', repo: 'r/app', startedAt: 10 });
      assert.equal(await store.getUpload('nope'), undefined);
      assert.deepEqual((await store.listUploads(15)).map((u) => u.id), ['u1']);
      assert.deepEqual((await store.listUploads(25)).map((u) => u.id), ['u1', 'u2']);
      await store.linkBlob('r/app', { digest: d('b'), size: 3 }, { completedUpload: 'u1' });
      assert.equal(await store.getUpload('u1'), undefined);
      assert.ok(await store.getRepositoryBlob('r/app', d('b')));
      assert.equal(await store.deleteUpload('u2'), true);
      assert.equal(await store.deleteUpload('u2'), false);
    });

    it('journals small blobs with their link, until cleared', async () => {
      await store.linkBlob('r/app', { digest: d('1'), size: 3 }, { journal: Buffer.from('one') });
      await store.linkBlob('r/app', { digest: d('2'), size: 3 }, { journal: Buffer.from('two') });
      await store.linkBlob('r/other', { digest: d('2'), size: 3 }, { journal: Buffer.from('two') });
      const j = await store.journaledBlobs(10);
      assert.deepEqual(j.map((b) => [b.digest, b.data.toString()]).sort(), [[d('1'), 'one'], [d('2'), 'two']]);
      assert.equal((await store.journaledBlobs(1)).length, 1);
      await store.clearJournal([d('1'), d('2')]);
      assert.deepEqual(await store.journaledBlobs(10), []);
    });

    it('answers ping', async () => {
      await store.ping();
    });
  });
}
