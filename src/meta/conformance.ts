/**
 * ONE behavioural suite for every MetaStore implementation (SQLite now, PostgreSQL later): each
 * implementation's test calls runMetaStoreConformance with a factory for an empty store that
 * records its times (pushes, tags, repositories) from the clock it is given.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MissingReferenceError, StillReferencedError, type MetaStore, type NewManifest, type TagQuery } from './store.ts';

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

export function runMetaStoreConformance(name: string, make: (now: () => number) => Promise<{ store: MetaStore; cleanup: () => Promise<void> }>): void {
  describe(`meta store conformance: ${name}`, () => {
    let store: MetaStore;
    let cleanup: () => Promise<void>;
    /** The store's clock: the real one, unless a test sets the time. */
    let time: number | undefined;
    beforeEach(async () => {
      time = undefined;
      ({ store, cleanup } = await make(() => time ?? Date.now()));
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

    const held = (digest: string, kind: 'blob' | 'manifest', by: string) => (e: unknown) =>
      e instanceof StillReferencedError && e.digest === digest && e.kind === kind && e.by === by;

    it('refuses to unlink a blob a manifest of the repository references or is, and changes nothing', async () => {
      for (const b of ['c', 'l', 'x']) await store.linkBlob('r/app', { digest: d(b), size: 10 });
      await store.putManifest('r/app', manifest(d('n'), { blobs: [d('c'), d('l')] }), 'v1');
      await store.putManifest('r/app', manifest(d('m'), { blobs: [d('l')] }));
      await assert.rejects(store.unlinkBlob('r/app', d('l')), held(d('l'), 'blob', d('m')), 'the first holder by digest is named');
      await assert.rejects(store.unlinkBlob('r/app', d('c')), held(d('c'), 'blob', d('n')));
      await assert.rejects(store.unlinkBlob('r/app', d('n')), held(d('n'), 'blob', d('n')), "a manifest's own bytes");
      for (const b of ['c', 'l', 'n', 'm']) assert.ok(await store.getRepositoryBlob('r/app', d(b)), `${b} is still linked`);
      assert.equal(await store.unlinkBlob('r/app', d('x')), true, 'a blob nothing references goes');
      assert.equal(await store.unlinkBlob('r/app', d('x')), false);
      await store.linkBlob('r/other', { digest: d('l'), size: 10 });
      assert.equal(await store.unlinkBlob('r/other', d('l')), true, "another repository's manifests hold nothing here");
      assert.equal(await store.deleteManifest('r/app', d('m')), true);
      assert.equal(await store.deleteManifest('r/app', d('n')), true);
      for (const b of ['c', 'l', 'n', 'm']) assert.equal(await store.unlinkBlob('r/app', d(b)), true, `${b} goes once its manifests have`);
    });

    it('refuses to delete an index child while the index exists, and changes nothing', async () => {
      const index = (digest: string, children: string[]) =>
        manifest(digest, { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null, children });
      time = 1000;
      await store.putManifest('r/app', manifest(d('a')), 'amd64');
      await store.putManifest('r/app', manifest(d('b')));
      await store.putManifest('r/app', index(d('i'), [d('a'), d('b')]), 'v1');
      await store.putManifest('r/other', manifest(d('a')));
      time = 2000;
      await assert.rejects(store.deleteManifest('r/app', d('a')), held(d('a'), 'manifest', d('i')));
      await assert.rejects(store.deleteManifest('r/app', d('b')), held(d('b'), 'manifest', d('i')));
      assert.ok(await store.getManifest('r/app', d('a')));
      assert.deepEqual(await store.tagsOf('r/app', d('a')), ['amd64'], 'its tags stay with it');
      assert.deepEqual(await store.repositoryTimes('r/app'), { createdAt: 1000, updatedAt: 1000 }, 'the repository is not touched');
      assert.equal(await store.deleteManifest('r/other', d('a')), true, "another repository's index holds nothing here");
      assert.equal(await store.deleteTag('r/app', 'amd64'), true, 'a tag of a child still goes');
      assert.equal(await store.deleteManifest('r/app', d('i')), true);
      assert.equal(await store.deleteManifest('r/app', d('a')), true, 'the children go once their index has');
      assert.equal(await store.deleteManifest('r/app', d('b')), true);
      await store.putManifest('r/app', index(d('j'), [d('z')]));
      assert.equal(await store.deleteManifest('r/app', d('z')), false, 'a child the repository lacks (a mirror fills it later) is unknown');
    });

    it('either refuses an unlink or a push that references the blob, never lets both through', async () => {
      for (let round = 0; round < 20; round++) {
        const blob = d(round.toString(16).padStart(2, '0'));
        await store.linkBlob('r/race', { digest: blob, size: 10 });
        const [unlink, push] = await Promise.allSettled([
          store.unlinkBlob('r/race', blob),
          store.putManifest('r/race', manifest(d(`f${round.toString(16)}`), { blobs: [blob] }), undefined, { verifyReferences: true }),
        ]);
        const linked = (await store.getRepositoryBlob('r/race', blob)) !== undefined;
        if (push.status === 'fulfilled') {
          assert.ok(linked && unlink.status === 'rejected' && held(blob, 'blob', d(`f${round.toString(16)}`))(unlink.reason), `round ${round}: pushed, so kept`);
        } else {
          assert.ok(push.reason instanceof MissingReferenceError, `round ${round}: ${String(push.reason)}`);
          assert.ok(!linked && unlink.status === 'fulfilled' && unlink.value, `round ${round}: unlinked, so the push was refused`);
        }
      }
    });

    it('records when a repository was first pushed and last changed: pushes, tag moves and deletes', async () => {
      const times = () => store.repositoryTimes('r/app');
      time = 1000;
      await store.linkBlob('r/app', { digest: d('c'), size: 10 });
      assert.equal(await times(), undefined, 'blobs alone make no repository to show');
      time = 2000;
      await store.putManifest('r/app', manifest(d('1'), { blobs: [d('c')] }), 'v1');
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 2000 }, 'created by its first manifest, not its first blob');
      time = 3000;
      await store.putManifest('r/app', manifest(d('2')), 'v2');
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 3000 }, 'a push');
      time = 4000;
      await store.putManifest('r/app', manifest(d('2')), 'v1');
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 4000 }, 'a tag moved');
      time = 5000;
      assert.equal(await store.deleteTag('r/app', 'v2'), true);
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 5000 }, 'a tag deleted');
      time = 6000;
      assert.equal(await store.deleteTag('r/app', 'v2'), false);
      assert.equal(await store.deleteManifest('r/app', d('9')), false);
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 5000 }, 'deleting nothing changes nothing');
      time = 7000;
      assert.equal(await store.deleteManifest('r/app', d('1')), true);
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 7000 }, 'a manifest deleted');
      await store.deleteManifest('r/app', d('2'));
      assert.equal(await times(), undefined, 'a repository without manifests has no times to show');
      time = 8000;
      await store.putManifest('r/app', manifest(d('3')), 'v3');
      assert.deepEqual(await times(), { createdAt: 2000, updatedAt: 8000 }, 'pushed again: still created by its first push, as its descriptions and stars stay');
      assert.equal(await store.repositoryTimes('r/none'), undefined);
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

    it('pages tags filtered by name, sorted by name, push time or size, with distinct sizes', async () => {
      // Two images sharing layer 'l', and an index over both of them.
      await store.linkBlob('r/app', { digest: d('c1'), size: 10 });
      await store.linkBlob('r/app', { digest: d('c2'), size: 20 });
      await store.linkBlob('r/app', { digest: d('l'), size: 1000 });
      await store.putManifest('r/app', manifest(d('1'), { size: 100, blobs: [d('c1'), d('l')] }), 'amd64');
      await store.putManifest('r/app', manifest(d('2'), { size: 200, blobs: [d('c2'), d('l')] }), 'arm64');
      const index = manifest(d('9'), { size: 300, mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null, children: [d('1'), d('2')] });
      await store.putManifest('r/app', index, 'latest');
      await new Promise((r) => setTimeout(r, 5));
      await store.putManifest('r/app', manifest(d('1'), { size: 100, blobs: [d('c1'), d('l')] }), 'V1_0');

      const page = async (q: Partial<TagQuery>) => {
        const result = await store.queryTags('r/app', { text: '', sort: 'name', order: 'asc', offset: 0, limit: 10, ...q });
        assert.ok(result);
        return { total: result.total, tags: result.tags.map((t) => `${t.tag}=${t.totalSize}`) };
      };
      assert.deepEqual(await page({}), { total: 4, tags: ['V1_0=1110', 'amd64=1110', 'arm64=1220', 'latest=1630'] });
      assert.deepEqual(await page({ order: 'desc', limit: 2 }), { total: 4, tags: ['latest=1630', 'arm64=1220'] });
      assert.deepEqual(await page({ order: 'desc', offset: 2, limit: 2 }), { total: 4, tags: ['amd64=1110', 'V1_0=1110'] });
      assert.deepEqual(await page({ sort: 'size', order: 'desc' }), { total: 4, tags: ['latest=1630', 'arm64=1220', 'V1_0=1110', 'amd64=1110'] });
      assert.deepEqual(await page({ sort: 'size', order: 'asc', offset: 1, limit: 2 }), { total: 4, tags: ['amd64=1110', 'arm64=1220'] });
      assert.deepEqual((await page({ sort: 'pushed', order: 'desc', limit: 1 })).tags, ['V1_0=1110']);
      assert.deepEqual((await page({ sort: 'pushed', order: 'asc' })).tags.at(-1), 'V1_0=1110');
      assert.deepEqual(await page({ text: 'a' }), { total: 3, tags: ['amd64=1110', 'arm64=1220', 'latest=1630'] });
      assert.deepEqual(await page({ text: 'v1' }), { total: 1, tags: ['V1_0=1110'] }, 'case-insensitive');
      assert.deepEqual(await page({ text: '1_' }), { total: 1, tags: ['V1_0=1110'] }, 'LIKE wildcards are literal');
      assert.deepEqual(await page({ text: '%' }), { total: 0, tags: [] });
      assert.deepEqual(await page({ offset: 10 }), { total: 4, tags: [] });

      const latest = (await store.queryTags('r/app', { text: 'latest', sort: 'name', order: 'asc', offset: 0, limit: 1 }))?.tags[0];
      assert.equal(latest?.manifest.digest, d('9'));
      assert.equal(latest?.manifest.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.ok((latest?.pushedAt ?? 0) > 0);
      assert.equal(await store.totalSize('r/app', d('9')), 1630);
      assert.equal(await store.totalSize('r/app', d('1')), 1110);
      assert.equal(await store.totalSize('r/other', d('1')), 0);
      assert.deepEqual(await store.tagsOf('r/app', d('1')), ['V1_0', 'amd64']);
      assert.deepEqual(await store.tagsOf('r/app', d('c1')), []);
      assert.deepEqual(await store.listManifests('r/app'), [d('1'), d('2'), d('9')]);
      assert.deepEqual(await store.listManifests('r/none'), []);
    });

    it('knows no tags of a repository without manifests', async () => {
      const q: TagQuery = { text: '', sort: 'name', order: 'asc', offset: 0, limit: 10 };
      assert.equal(await store.queryTags('r/none', q), undefined);
      await store.linkBlob('r/blobs-only', { digest: d('b'), size: 1 });
      assert.equal(await store.queryTags('r/blobs-only', q), undefined);
      await store.putManifest('r/untagged', manifest(d('m')));
      assert.deepEqual(await store.queryTags('r/untagged', q), { total: 0, tags: [] });
      await store.deleteManifest('r/untagged', d('m'));
      assert.equal(await store.queryTags('r/untagged', q), undefined);
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
