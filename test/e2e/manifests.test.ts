/** Manifests: push validation, pull by tag and digest, negotiation, deletes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, errorCode, sha256 } from '../helpers/client.ts';
import { useTestRegistry } from '../helpers/inproc.ts';

describe('manifests', () => {
  const t = useTestRegistry();

  it('pushes an OCI image and pulls it by tag and by digest, byte for byte', async () => {
    const img = await t.client.pushImage('m/app', '1.0');
    for (const ref of ['1.0', img.descriptor.digest]) {
      const res = await t.client.fetch(`/v2/m/app/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(res.headers.get('docker-content-digest'), img.descriptor.digest);
      assert.equal(await res.text(), img.body);
      const head = await t.client.fetch(`/v2/m/app/manifests/${ref}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(img.descriptor.size));
    }
  });

  it('returns Location and Docker-Content-Digest on PUT', async () => {
    const config = await t.client.pushBlob('m/loc', '{}');
    const body = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { ...config, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [] };
    const res = await t.client.putManifest('m/loc', 'v1', body, DOCKER_MANIFEST);
    assert.equal(res.status, 201);
    const digest = sha256(JSON.stringify(body));
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/m/loc/manifests/${digest}$`));
  });

  it('refuses manifests that reference unknown blobs', async () => {
    const config = await t.client.pushBlob('m/missing', '{"a":1}');
    const body = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('absent'), size: 6 }] };
    const res = await t.client.putManifest('m/missing', 'v1', body, OCI_MANIFEST);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await t.client.fetch('/v2/m/missing/manifests/v1')).status, 404);
  });

  it('refuses invalid manifests with MANIFEST_INVALID', async () => {
    const cases: [string, string][] = [
      ['not json', OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
      [JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-unknown', config: {}, layers: [] }), 'application/x-unknown'],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
    ];
    for (const [body, type] of cases) {
      const res = await t.client.fetch('/v2/m/invalid/manifests/v1', { method: 'PUT', body, headers: { 'Content-Type': type } });
      assert.equal(res.status, 400, body);
      assert.equal(await errorCode(res), 'MANIFEST_INVALID', body);
    }
  });

  it('checks the digest when pushing by digest', async () => {
    const img = await t.client.pushImage('m/bydigest', 'v1');
    const ok = await t.client.fetch(`/v2/m/bydigest/manifests/${img.descriptor.digest}`, { method: 'PUT', body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(ok.status, 201);
    const bad = await t.client.fetch(`/v2/m/bydigest/manifests/${sha256('other')}`, { method: 'PUT', body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
  });

  it('refuses manifests over 4 MiB with 413', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
    const res = await t.client.fetch('/v2/m/big/manifests/v1', { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 413);
  });

  it('answers 413 to a chunked manifest body over 4 MiB, the connection intact', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 32);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 65536) controller.enqueue(new Uint8Array(big.subarray(i, i + 65536)));
        controller.close();
      },
    });
    const res = await t.client.fetch('/v2/m/chunked/manifests/v1', {
      method: 'PUT',
      body,
      headers: { 'Content-Type': OCI_MANIFEST },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(await errorCode(res), 'MANIFEST_INVALID');
  });

  it('pushes an index only once its children exist, and serves it', async () => {
    const amd = await t.client.pushImage('m/multi', 'amd64', { layer: 'amd' });
    const arm = await t.client.pushImage('m/multi', 'arm64', { layer: 'arm' });
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...amd.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm.descriptor, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    };
    const missing = { ...index, manifests: [...index.manifests, { mediaType: OCI_MANIFEST, digest: sha256('nope'), size: 4 }] };
    const bad = await t.client.putManifest('m/multi', 'latest', missing, OCI_INDEX);
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'MANIFEST_BLOB_UNKNOWN');
    const res = await t.client.putManifest('m/multi', 'latest', index, OCI_INDEX);
    assert.equal(res.status, 201);
    const got = await t.client.fetch('/v2/m/multi/manifests/latest', { headers: { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
    assert.equal(got.headers.get('content-type'), OCI_INDEX);
    assert.deepEqual(await got.json(), index);
  });

  it('gives a client that does not accept lists the linux/amd64 image', async () => {
    const amd = await t.client.pushImage('m/legacy', 'amd64', { mediaType: DOCKER_MANIFEST, layer: 'legacy amd' });
    const arm = await t.client.pushImage('m/legacy', 'arm64', { mediaType: DOCKER_MANIFEST, layer: 'legacy arm' });
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        { ...arm.descriptor, platform: { os: 'linux', architecture: 'arm64' } },
        { ...amd.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    assert.equal((await t.client.putManifest('m/legacy', 'latest', list, DOCKER_LIST)).status, 201);
    const res = await t.client.fetch('/v2/m/legacy/manifests/latest', { headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(res.headers.get('content-type'), DOCKER_MANIFEST);
    assert.equal(res.headers.get('docker-content-digest'), amd.descriptor.digest);
    const listRes = await t.client.fetch('/v2/m/legacy/manifests/latest', { headers: { Accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
    assert.equal(listRes.headers.get('content-type'), DOCKER_LIST);
  });

  it('answers unknown manifests, malformed references included, with MANIFEST_UNKNOWN; a PUT to one with 400', async () => {
    const res = await t.client.fetch('/v2/m/app/manifests/nope');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
    const bad = await t.client.fetch('/v2/m/app/manifests/-bad-');
    assert.equal(bad.status, 404);
    assert.equal(await errorCode(bad), 'MANIFEST_UNKNOWN');
    const put = await t.client.putManifest('m/app', '-bad-', {}, OCI_MANIFEST);
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'MANIFEST_INVALID');
  });

  it('deletes a tag, then a manifest with its other tags', async () => {
    const img = await t.client.pushImage('m/del', 'a');
    assert.equal((await t.client.putManifest('m/del', 'b', JSON.parse(img.body) as object, OCI_MANIFEST)).status, 201);
    assert.equal((await t.client.fetch('/v2/m/del/manifests/a', { method: 'DELETE' })).status, 202);
    assert.equal((await t.client.fetch('/v2/m/del/manifests/a')).status, 404);
    assert.equal((await t.client.fetch('/v2/m/del/manifests/b')).status, 200);
    assert.equal((await t.client.fetch(`/v2/m/del/manifests/${img.descriptor.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await t.client.fetch('/v2/m/del/manifests/b')).status, 404);
    assert.equal((await t.client.fetch(`/v2/m/del/manifests/${img.descriptor.digest}`)).status, 404);
    const again = await t.client.fetch(`/v2/m/del/manifests/${img.descriptor.digest}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), 'MANIFEST_UNKNOWN');
  });
});

describe('deletes disabled', () => {
  const t = useTestRegistry({ storage: 'inmemory', config: { storage: { delete: { enabled: false } } } });

  it('refuses every delete with 405 UNSUPPORTED', async () => {
    const img = await t.client.pushImage('nd/app', 'v1');
    for (const path of [`/v2/nd/app/manifests/v1`, `/v2/nd/app/manifests/${img.descriptor.digest}`, `/v2/nd/app/blobs/${img.layer.digest}`]) {
      const res = await t.client.fetch(path, { method: 'DELETE' });
      assert.equal(res.status, 405, path);
      assert.equal(await errorCode(res), 'UNSUPPORTED');
    }
    assert.equal((await t.client.fetch('/v2/nd/app/manifests/v1')).status, 200);
  });
});
