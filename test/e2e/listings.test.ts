/** Tags list, catalog and referrers, with pagination and filters. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { OCI_INDEX, OCI_MANIFEST, errorCode, sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

describe('tags and catalog', () => {
  const t = useTestRegistry({ storage: 'inmemory' });
  before(async () => {
    const img = await t.client.pushImage('l/app', 'v0');
    for (const tag of ['b', 'a', 'c', 'B', '1.0', 'latest']) {
      assert.equal((await t.client.putManifest('l/app', tag, JSON.parse(img.body) as object, OCI_MANIFEST)).status, 201);
    }
    for (const repo of ['z/last', 'a/first', 'm/middle']) await t.client.pushImage(repo, 'v1');
    await t.client.pushBlob('blobs/only', 'no manifest here');
  });

  it('lists tags sorted', async () => {
    const res = await t.client.fetch('/v2/l/app/tags/list');
    assert.deepEqual(await res.json(), { name: 'l/app', tags: ['1.0', 'B', 'a', 'b', 'c', 'latest', 'v0'] });
  });

  it('paginates tags with n, last and a Link header', async () => {
    const p1 = await t.client.fetch('/v2/l/app/tags/list?n=3');
    assert.deepEqual(((await p1.json()) as { tags: string[] }).tags, ['1.0', 'B', 'a']);
    const link = p1.headers.get('link');
    assert.equal(link, '</v2/l/app/tags/list?n=3&last=a>; rel="next"');
    const p2 = await t.client.fetch('/v2/l/app/tags/list?n=3&last=a');
    assert.deepEqual(((await p2.json()) as { tags: string[] }).tags, ['b', 'c', 'latest']);
    const p3 = await t.client.fetch('/v2/l/app/tags/list?n=3&last=latest');
    assert.deepEqual(((await p3.json()) as { tags: string[] }).tags, ['v0']);
    assert.equal(p3.headers.get('link'), null);
    const zero = await t.client.fetch('/v2/l/app/tags/list?n=0');
    assert.deepEqual(((await zero.json()) as { tags: string[] }).tags, []);
    const bad = await t.client.fetch('/v2/l/app/tags/list?n=-1');
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'UNSUPPORTED');
  });

  it('answers tags of an unknown repository with NAME_UNKNOWN', async () => {
    const res = await t.client.fetch('/v2/no/such/tags/list');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'NAME_UNKNOWN');
  });

  it('lists repositories with manifests, sorted and paginated', async () => {
    const all = (await (await t.client.fetch('/v2/_catalog')).json()) as { repositories: string[] };
    assert.deepEqual(all.repositories, ['a/first', 'l/app', 'm/middle', 'z/last']);
    const p1 = await t.client.fetch('/v2/_catalog?n=2');
    assert.deepEqual(((await p1.json()) as { repositories: string[] }).repositories, ['a/first', 'l/app']);
    assert.equal(p1.headers.get('link'), '</v2/_catalog?n=2&last=l%2Fapp>; rel="next"');
    const p2 = await t.client.fetch('/v2/_catalog?n=2&last=l%2Fapp');
    assert.deepEqual(((await p2.json()) as { repositories: string[] }).repositories, ['m/middle', 'z/last']);
  });
});

describe('referrers', () => {
  const t = useTestRegistry({ storage: 'inmemory' });

  it('sets OCI-Subject and lists referrers, filtered by artifactType', async () => {
    const subject = await t.client.pushImage('r/app', 'v1');
    const sig = await t.client.pushImage('r/app', 'sig', { subject: subject.descriptor, artifactType: 'application/vnd.example.signature', layer: 'sig', annotations: { 'org.example.k': 'v' } });
    const sbom = await t.client.pushImage('r/app', 'sbom', { subject: subject.descriptor, artifactType: 'application/spdx+json', layer: 'sbom' });
    const direct = await t.client.fetch(`/v2/r/app/manifests/${sig.descriptor.digest}`, { method: 'PUT', body: sig.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(direct.headers.get('oci-subject'), subject.descriptor.digest);

    const all = await t.client.fetch(`/v2/r/app/referrers/${subject.descriptor.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), OCI_INDEX);
    const index = (await all.json()) as { schemaVersion: number; mediaType: string; manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sig.descriptor.digest, sbom.descriptor.digest].sort());
    assert.deepEqual(index.manifests.find((m) => m.digest === sig.descriptor.digest)?.annotations, { 'org.example.k': 'v' });

    const filtered = await t.client.fetch(`/v2/r/app/referrers/${subject.descriptor.digest}?artifactType=application%2Fspdx%2Bjson`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    const fIndex = (await filtered.json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(fIndex.manifests.map((m) => [m.digest, m.artifactType]), [[sbom.descriptor.digest, 'application/spdx+json']]);
  });

  it('answers an empty index for a subject without referrers and 400 for a bad digest', async () => {
    const res = await t.client.fetch(`/v2/r/app/referrers/${sha256('none')}`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { manifests: unknown[] }).manifests, []);
    const bad = await t.client.fetch('/v2/r/app/referrers/sha256:zz');
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
  });
});
