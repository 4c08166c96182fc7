/**
 * Deletes of content a manifest of the same repository still needs (issue 15, security review):
 * a blob DELETE of a layer, a config or a manifest's own bytes, and a manifest DELETE of an
 * index's child, are 403 DENIED naming the manifest that holds them, with an immutability rule
 * holding the image and without one, for administrators too; the image keeps pulling. What
 * nothing references still goes (202), an unknown blob is 404; the holder deleted first, the
 * content goes. A refused unlink leaves the namespace's counted quota usage as it was (the review
 * grew storage past a quota by unlinking a referenced layer again and again). `berth repo
 * delete`'s counterpart, the content API's repository delete, removes an index with its children.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SYSTEM } from '../../src/auth/principal.ts';
import { paths } from '../../src/http/routes.ts';
import { api } from '../helpers/api.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { OCI_INDEX, OCI_MANIFEST, errorCode, expectDenied as refused, type Descriptor } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

const ops: Credentials = { user: 'ops', password: 'ops-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };

describe('deletes of content a manifest still references', () => {
  const t = useTestRegistry({
    config: { storage: { delete: { enabled: true } }, access: { immutable: [{ repository: 'alice/*', tags: ['v*'] }], quota: { default: '1MiB' } } },
  });
  const call = (...a: Parameters<ReturnType<typeof api>>) => api(t.reg.url)(...a);
  let asAlice: AuthClient;
  let asOps: AuthClient;
  before(async () => {
    await t.reg.running.access.accounts.createUser(SYSTEM, ops.user, ops.password, true);
    await t.reg.running.access.accounts.createUser(SYSTEM, alice.user, alice.password);
    asAlice = new AuthClient(t.reg.url, alice, 'basic');
    asOps = new AuthClient(t.reg.url, ops, 'basic');
  });

  const del = (client: AuthClient, path: string) => client.fetch(path, { method: 'DELETE' });
  const status = async (path: string, method = 'GET') => (await asAlice.fetch(path, { method, headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } })).status;

  /** An index of the given images, PUT at `tag`; its digest. */
  async function pushIndex(repo: string, tag: string, images: Descriptor[]): Promise<string> {
    const manifests = images.map((m, i) => ({ ...m, platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' } }));
    const res = await asAlice.putManifest(repo, tag, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
    assert.equal(res.status, 201, await res.text());
    return res.headers.get('docker-content-digest') ?? '';
  }

  it('a layer, config or the manifest bytes of a held image: 403 naming the manifest, for anyone; the image still pulls', async () => {
    const image = await asAlice.pushImage('alice/app', 'v1');
    const manifest = image.descriptor.digest;
    for (const blob of [image.layer.digest, image.config.digest]) {
      for (const who of [asAlice, asOps]) {
        const error = await refused(await del(who, `/v2/alice/app/blobs/${blob}`), new RegExp(`blob ${blob} is referenced by manifest ${manifest} .*delete the manifest first`));
        assert.deepEqual(error.detail, { digest: blob, manifest });
      }
    }
    await refused(await del(asAlice, `/v2/alice/app/blobs/${manifest}`), new RegExp(`blob ${manifest} is the manifest ${manifest} .*delete the manifest first`));
    assert.equal(await status('/v2/alice/app/manifests/v1'), 200);
    for (const blob of [image.layer.digest, image.config.digest]) assert.equal(await status(`/v2/alice/app/blobs/${blob}`), 200, 'still pullable');

    const loose = await asAlice.pushBlob('alice/app', 'a blob no manifest references');
    assert.equal((await del(asAlice, `/v2/alice/app/blobs/${loose.digest}`)).status, 202, 'nothing references it');
    assert.equal(await status(`/v2/alice/app/blobs/${loose.digest}`, 'HEAD'), 404);
    const again = await del(asAlice, `/v2/alice/app/blobs/${loose.digest}`);
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), 'BLOB_UNKNOWN');
    assert.equal((await del(asAlice, `/v2/alice/app/blobs/sha256:${'0'.repeat(64)}`)).status, 404);

    const other = await asAlice.pushBlob('alice/other', `layer of alice/app:v1`);
    assert.equal(other.digest, image.layer.digest);
    assert.equal((await del(asAlice, `/v2/alice/other/blobs/${other.digest}`)).status, 202, "another repository's manifests hold nothing there");
  });

  it('without a rule holding the image, the same refusal; the blobs go once their manifest has', async () => {
    const image = await asAlice.pushImage('alice/plain', 'latest');
    const manifest = image.descriptor.digest;
    await refused(await del(asAlice, `/v2/alice/plain/blobs/${image.layer.digest}`), new RegExp(`referenced by manifest ${manifest}`));
    assert.equal((await del(asAlice, `/v2/alice/plain/manifests/${manifest}`)).status, 202);
    for (const blob of [image.layer.digest, image.config.digest, manifest]) {
      assert.equal((await del(asAlice, `/v2/alice/plain/blobs/${blob}`)).status, 202, blob);
    }
  });

  it("an index's child: 403 naming the index, held or not, for anyone; every platform still pulls; it goes after its index", async () => {
    const amd = await asAlice.pushImage('alice/multi', 'amd64');
    const arm = await asAlice.pushImage('alice/multi', 'arm64');
    const index = await pushIndex('alice/multi', 'v1', [amd.descriptor, arm.descriptor]);
    for (const who of [asAlice, asOps]) {
      const error = await refused(
        await del(who, `/v2/alice/multi/manifests/${amd.descriptor.digest}`),
        new RegExp(`manifest ${amd.descriptor.digest} is a child of index ${index} .*delete the index first`),
      );
      assert.deepEqual(error.detail, { digest: amd.descriptor.digest, index });
    }
    assert.equal(await status('/v2/alice/multi/manifests/v1'), 200);
    assert.equal(await status(`/v2/alice/multi/manifests/${amd.descriptor.digest}`), 200);
    assert.equal(await status('/v2/alice/multi/manifests/amd64'), 200, 'its tag stays with it');
    assert.equal(await status(`/v2/alice/multi/blobs/${amd.layer.digest}`), 200);
    assert.equal((await del(asAlice, '/v2/alice/multi/manifests/amd64')).status, 202, 'a tag of a child still goes');

    const loose = await asAlice.pushImage('alice/multi2', 'amd64');
    const unheld = await pushIndex('alice/multi2', 'latest', [loose.descriptor]);
    await refused(await del(asAlice, `/v2/alice/multi2/manifests/${loose.descriptor.digest}`), new RegExp(`child of index ${unheld}`));
    assert.equal((await del(asAlice, `/v2/alice/multi2/manifests/${unheld}`)).status, 202);
    assert.equal((await del(asAlice, `/v2/alice/multi2/manifests/${loose.descriptor.digest}`)).status, 202, 'once the index has gone');
  });

  it("a repository's delete takes an index's children after the index", async () => {
    const one = await asAlice.pushImage('alice/whole', 'one');
    const two = await asAlice.pushImage('alice/whole', 'two');
    const index = await pushIndex('alice/whole', 'latest', [one.descriptor, two.descriptor]);
    // deleted in digest order: a child ordered before its index is refused on the first pass
    assert.ok(one.descriptor.digest < index || two.descriptor.digest < index, 'a child listed before its index');
    const res = await call('DELETE', paths.apiRepository('alice/whole'), { as: alice });
    assert.equal(res.status, 204, res.text);
    assert.equal(await status('/v2/alice/whole/manifests/latest'), 404);
    assert.equal(await status(`/v2/alice/whole/manifests/${one.descriptor.digest}`), 404);
    assert.equal(await status(`/v2/alice/whole/manifests/${two.descriptor.digest}`), 404);
  });

  it("a refused unlink leaves the namespace's quota usage as it was; an allowed one lowers it", async () => {
    const used = async () => ((await call('GET', paths.apiNamespaceQuota('ops'), { as: ops })).body as { used: number }).used;
    const image = await asOps.pushImage('ops/app', 'latest', { layer: 'x'.repeat(60_000) });
    const before = await used();
    for (let round = 0; round < 3; round++) {
      await refused(await del(asOps, `/v2/ops/app/blobs/${image.layer.digest}`), /referenced by manifest/);
      await asOps.pushImage('ops/app', 'latest', { layer: 'x'.repeat(60_000) });
      assert.equal(await used(), before, `round ${round}: the layer still counts`);
    }
    assert.equal((await del(asOps, `/v2/ops/app/manifests/${image.descriptor.digest}`)).status, 202);
    assert.equal((await del(asOps, `/v2/ops/app/blobs/${image.layer.digest}`)).status, 202);
    assert.equal(await used(), before - 60_000, 'unreferenced, its unlink stops counting it');
  });
});
