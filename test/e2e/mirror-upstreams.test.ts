/**
 * The mirror when its upstream goes away after caching (a berth upstream, stopped), and with
 * distribution 2.8.2 (Debian's `docker-registry`) as the upstream behind htpasswd, configured in
 * distribution's own form (`proxy.remoteurl`, `username`, `password`, `ttl`), killed mid-blob.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { Client, DOCKER_MANIFEST, errorCode, OCI_INDEX, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { buildImage } from '../fixtures/oci.ts';
import { basicAuth, blobCached, pushBuiltImage, startDistribution, type Distribution } from '../helpers/mirror.ts';
import { requireTools } from '../helpers/process.ts';

const ALL = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

describe('mirror whose upstream goes down after caching', () => {
  let upstream: TestRegistry;
  let upstreamStopped: Promise<void> | undefined;
  let mirror: TestRegistry;

  before(async () => {
    upstream = await startTestRegistry();
    mirror = await startTestRegistry({
      config: { proxy: { upstreams: [{ name: 'up', prefix: 'library/', remoteprefix: 'library/', url: upstream.url, ttl: '100ms' }], connecttimeout: '1s' } },
    });
  });
  after(async () => {
    await mirror?.stop();
    await (upstreamStopped ?? upstream?.stop());
  });

  it('serves cached tags (stale, logged and counted), digests and blobs; what is not cached is a 503', async () => {
    const img = await new Client(upstream.url).pushImage('library/down', 'latest');
    const m = new Client(mirror.url);
    await (await m.fetch('/v2/library/down/manifests/latest', { headers: { accept: ALL } })).arrayBuffer();
    for (const blob of [img.config, img.layer]) {
      await (await m.fetch(`/v2/library/down/blobs/${blob.digest}`)).arrayBuffer();
      assert.ok(await blobCached(mirror.running.registry.local, blob.digest));
    }
    upstreamStopped = upstream.stop();
    await upstreamStopped;
    await new Promise((r) => setTimeout(r, 150)); // past the TTL: the tag wants revalidating

    const tag = await m.fetch('/v2/library/down/manifests/latest', { headers: { accept: ALL } });
    assert.equal(tag.status, 200);
    assert.equal(tag.headers.get('docker-content-digest'), img.descriptor.digest);
    assert.equal(await tag.text(), img.body);
    assert.equal((await m.fetch(`/v2/library/down/manifests/${img.descriptor.digest}`, { method: 'HEAD', headers: { accept: ALL } })).status, 200);
    for (const blob of [img.config, img.layer]) {
      const res = await m.fetch(`/v2/library/down/blobs/${blob.digest}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
    }
    const tags = (await (await m.fetch('/v2/library/down/tags/list')).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['latest'], 'the cached tags when the upstream cannot list them');

    const uncached = await m.fetch('/v2/library/other/manifests/latest');
    assert.equal(uncached.status, 503);
    assert.equal(await errorCode(uncached), 'UNAVAILABLE');

    const status = (await (await m.fetch('/api/v1/mirror')).json()) as { upstreams: { staleServed: number; errors: number; lastError: { reason: string } | null }[] };
    const up = status.upstreams[0];
    assert.ok(up !== undefined && up.staleServed >= 2 && up.errors >= 1);
    assert.match(up.lastError?.reason ?? '', /ECONNREFUSED/);
    assert.match(await (await m.fetch('/metrics')).text(), /berth_mirror_requests_total\{upstream="up",object="manifest",outcome="stale"\} [1-9]/);
  });
});

const tools = requireTools('docker-registry');

describe('mirror of distribution 2.8.2 (proxy.remoteurl, Basic auth)', { skip: tools.skip }, () => {
  let dist: Distribution;
  let mirror: TestRegistry;
  let m: Client;

  before(async () => {
    tools.check();
    dist = await startDistribution();
    mirror = await startTestRegistry({
      config: { proxy: { remoteurl: dist.url, username: dist.user, password: dist.password, ttl: '1h', idletimeout: '5s' } },
    });
    m = new Client(mirror.url);
  });
  after(async () => {
    await mirror?.stop();
    await dist?.stop();
  });

  it('pulls by tag and digest through the mirror with the upstream credentials', async () => {
    const img = buildImage({ label: 'from-distribution' });
    await pushBuiltImage(dist.url, 'team/app', 'v1', img, basicAuth(dist.user, dist.password));
    assert.equal((await fetch(`${dist.url}/v2/team/app/manifests/v1`)).status, 401, 'the upstream wants credentials');

    const byTag = await m.fetch('/v2/team/app/manifests/v1', { headers: { accept: ALL } });
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get('docker-content-digest'), img.manifestDigest);
    assert.deepEqual(Buffer.from(await byTag.arrayBuffer()), img.manifest);
    const byDigest = await m.fetch(`/v2/team/app/manifests/${img.manifestDigest}`, { headers: { accept: ALL } });
    assert.equal(byDigest.status, 200);
    await byDigest.arrayBuffer();
    for (const [digest, data] of img.blobs) {
      const res = await m.fetch(`/v2/team/app/blobs/${digest}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    }
    const missing = await m.fetch('/v2/team/none/manifests/v1');
    assert.equal(missing.status, 404);
  });

  it('caches nothing when distribution is killed mid-blob; after a restart the blob is pulled whole', async () => {
    const img = buildImage({ label: 'killed', dataBytes: 48 * 1024 * 1024 });
    await pushBuiltImage(dist.url, 'team/big', 'v1', img, basicAuth(dist.user, dist.password));
    await (await m.fetch('/v2/team/big/manifests/v1', { headers: { accept: ALL } })).arrayBuffer();
    const digest = img.layerDigests[1] ?? '';
    const size = img.blobs.get(digest)?.length ?? 0;
    const received = await new Promise<number>((resolve) => {
      let n = 0;
      http.get(`${mirror.url}/v2/team/big/blobs/${digest}`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', (chunk: Buffer) => {
          n += chunk.length;
          res.pause();
          void dist.kill('SIGKILL').then(() => {
            res.on('data', (c: Buffer) => (n += c.length));
            res.resume();
          });
        });
        res.on('error', () => resolve(n));
        res.on('close', () => resolve(n));
      });
    });
    assert.ok(received < size, `the client got ${received} of ${size} bytes`);
    assert.equal(await mirror.running.registry.local.blobs.bytesPresent(digest), false, 'nothing cached');

    await dist.restart();
    const res = await m.fetch(`/v2/team/big/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest);
    assert.ok(await blobCached(mirror.running.registry.local, digest), 'then cached');
  });
});
