/**
 * The mirror end to end, with a second berth as the upstream: pulls by tag and digest, only the
 * platform asked for, TTL and revalidation, ten concurrent cold pulls sharing one upstream fetch,
 * an upstream transfer cut mid-blob, private pushes beside mirrored names, and upstream errors.
 * The upstream-down case and distribution 2.8.2 as the upstream: mirror-upstreams.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { Client, DOCKER_MANIFEST, errorCode, OCI_INDEX, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { buildImage, pseudoRandom } from '../fixtures/oci.ts';
import { blobCached, delta, pushBuiltImage, requestCounts } from '../helpers/mirror.ts';
import { startBerth, type BerthProcess } from '../helpers/process.ts';

const ALL = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

describe('mirror of a berth upstream', () => {
  let upstream: TestRegistry;
  let failing: http.Server;
  /** A berth in its own process, to kill mid-blob. */
  let killable: BerthProcess;
  let mirror: TestRegistry;
  /** How to stop what before() started, in order: all of it is stopped even when before() failed half-way. */
  const stops: (() => Promise<unknown>)[] = [];
  let up: Client;
  let m: Client;
  let failStatus = 429;

  before(async () => {
    upstream = await startTestRegistry();
    stops.push(() => upstream.stop());
    killable = await startBerth();
    stops.push(() => killable.stop());
    failing = http.createServer((req, res) => {
      res.statusCode = failStatus;
      if (failStatus !== 200) return res.end();
      // A "blob" of 100 KiB that matches no digest: the bytes of a broken or lying upstream.
      res.setHeader('Content-Length', 100 * 1024);
      res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(100 * 1024, 'x'));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    stops.push(async () => {
      failing.closeAllConnections();
      await new Promise((r) => failing.close(r));
    });
    const failingPort = (failing.address() as { port: number }).port;
    mirror = await startTestRegistry({
      config: {
        proxy: {
          upstreams: [
            { name: 'up', prefix: 'library/', remoteprefix: 'library/', url: upstream.url },
            { name: 'fast', prefix: 'fast/', remoteprefix: 'library/', url: upstream.url, ttl: '300ms' },
            { name: 'failing', prefix: 'failing/', url: `http://127.0.0.1:${failingPort}` },
            { name: 'killable', prefix: 'killable/', remoteprefix: 'library/', url: killable.url },
          ],
        },
      },
    });
    stops.push(() => mirror.stop());
    up = new Client(upstream.url);
    m = new Client(mirror.url);
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('pulls by tag and by digest through the mirror, and serves the second pull locally', async () => {
    const img = await up.pushImage('library/app', '1.0', { layer: pseudoRandom(300_000, 'app').toString('base64') });
    const before = await requestCounts(upstream.url);
    for (const ref of ['1.0', img.descriptor.digest, '1.0']) {
      const res = await m.fetch(`/v2/library/app/manifests/${ref}`, { headers: { accept: ALL } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), img.descriptor.digest);
      assert.equal(await res.text(), img.body);
    }
    for (let i = 0; i < 2; i++) {
      for (const blob of [img.config, img.layer]) {
        const res = await m.fetch(`/v2/library/app/blobs/${blob.digest}`);
        assert.equal(res.status, 200);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
        if (i === 0) assert.ok(await blobCached(mirror.running.registry.local, blob.digest));
      }
    }
    const after = await requestCounts(upstream.url);
    assert.equal(delta(before, after, 'manifest GET'), 1, 'the tag once; the digest is the same manifest');
    assert.equal(delta(before, after, 'blob GET'), 2, 'each blob once');
    assert.equal(delta(before, after, 'blob HEAD'), 0, 'sizes come from the manifest');

    const status = (await (await m.fetch('/api/v1/mirror')).json()) as { upstreams: { name: string; hits: number; misses: number; bytesSaved: number }[] };
    const stats = status.upstreams.find((u) => u.name === 'up');
    assert.ok(stats !== undefined && stats.hits >= 4 && stats.misses >= 3);
    assert.ok(stats.bytesSaved >= img.layer.size);
    const metrics = await (await m.fetch('/metrics')).text();
    assert.match(metrics, /berth_mirror_requests_total\{upstream="up",object="blob",outcome="hit"\} 2/);
    assert.match(metrics, /berth_mirror_bytes_total\{upstream="up",kind="fetched"\} \d+/);
  });

  it('answers HEAD and a Range GET of a blob not cached yet (the range once the blob is)', async () => {
    const layer = pseudoRandom(2 * 1024 * 1024, 'range');
    const img = await up.pushImage('library/range', '1', { layer: layer.toString('latin1') });
    const bytes = Buffer.from(layer.toString('latin1'));
    const head = await m.fetch(`/v2/library/range/blobs/${img.layer.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    const res = await m.fetch(`/v2/library/range/blobs/${img.layer.digest}`, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(res.status, 206);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes.subarray(1000, 2000));
    assert.equal(await mirror.running.registry.local.blobs.bytesPresent(img.layer.digest), true);
  });

  it('fetches only the platform a client asks for from an index', async () => {
    const amd = buildImage({ label: 'multi', architecture: 'amd64' });
    const arm = buildImage({ label: 'multi', architecture: 'arm64' });
    await pushBuiltImage(upstream.url, 'library/multi', amd.manifestDigest, amd);
    await pushBuiltImage(upstream.url, 'library/multi', arm.manifestDigest, arm);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [amd, arm].map((i) => ({ mediaType: OCI_MANIFEST, digest: i.manifestDigest, size: i.manifestSize, platform: { os: 'linux', architecture: i.architecture } })),
    });
    assert.equal((await up.putManifest('library/multi', 'latest', JSON.parse(index) as object, OCI_INDEX)).status, 201);

    // An old client accepting image manifests only gets linux/amd64; then pulls its blobs.
    const res = await m.fetch('/v2/library/multi/manifests/latest', { headers: { accept: OCI_MANIFEST } });
    assert.equal(res.headers.get('docker-content-digest'), amd.manifestDigest);
    await res.arrayBuffer();
    for (const digest of amd.blobs.keys()) assert.equal((await m.fetch(`/v2/library/multi/blobs/${digest}`)).status, 200);

    const { local } = mirror.running.registry;
    assert.ok((await local.meta.getManifest('library/multi', sha256(index))) !== undefined, 'the index is cached');
    assert.equal(await local.meta.getManifest('library/multi', arm.manifestDigest), undefined, 'the arm64 manifest was not fetched');
    const armOnly = [...arm.blobs.keys()].filter((d) => !amd.blobs.has(d));
    for (const digest of armOnly) assert.equal(await local.blobs.bytesPresent(digest), false, 'no arm64 blob was fetched');
  });

  it('revalidates a tag with one HEAD after the TTL, fetching it again only when it moved', async () => {
    const v1 = await up.pushImage('library/ttl', 'v', { layer: 'ttl one' });
    const get = async () => (await m.fetch('/v2/fast/ttl/manifests/v', { headers: { accept: ALL } })).headers.get('docker-content-digest');
    assert.equal(await get(), v1.descriptor.digest);
    const v2 = await up.pushImage('library/ttl', 'v', { layer: 'ttl two' });
    const c0 = await requestCounts(upstream.url);
    assert.equal(await get(), v1.descriptor.digest, 'within the TTL the cached tag is served');
    const c1 = await requestCounts(upstream.url);
    assert.equal(delta(c0, c1, 'manifest HEAD') + delta(c0, c1, 'manifest GET'), 0);

    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await get(), v2.descriptor.digest, 'after the TTL the moved tag is fetched');
    const c2 = await requestCounts(upstream.url);
    assert.deepEqual([delta(c1, c2, 'manifest HEAD'), delta(c1, c2, 'manifest GET')], [1, 1]);

    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await get(), v2.descriptor.digest);
    const c3 = await requestCounts(upstream.url);
    assert.deepEqual([delta(c2, c3, 'manifest HEAD'), delta(c2, c3, 'manifest GET')], [1, 0], 'an unchanged tag costs one HEAD');
  });

  it('serves ten concurrent cold pulls of one blob from exactly one upstream fetch', async () => {
    const img = await up.pushImage('library/big', '1', { layer: pseudoRandom(8 * 1024 * 1024, 'big').toString('latin1') });
    await (await m.fetch('/v2/library/big/manifests/1', { headers: { accept: ALL } })).arrayBuffer();
    const before = await requestCounts(upstream.url);
    const bodies = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await m.fetch(`/v2/library/big/blobs/${img.layer.digest}`);
        assert.equal(res.status, 200);
        return Buffer.from(await res.arrayBuffer());
      }),
    );
    for (const body of bodies) assert.equal(sha256(body), img.layer.digest);
    const after = await requestCounts(upstream.url);
    assert.equal(delta(before, after, 'blob GET'), 1, 'one upstream fetch for ten clients');
  });

  it('serves a blob asked for while its fill is committed from the verified bytes, without waiting for the commit', async () => {
    const text = pseudoRandom(4 * 1024 * 1024, 'committing').toString('latin1');
    const img = await up.pushImage('library/committing', '1', { layer: text });
    const layer = Buffer.from(text);
    await (await m.fetch('/v2/library/committing/manifests/1', { headers: { accept: ALL } })).arrayBuffer();
    const before = await requestCounts(upstream.url);
    // Hold the cache commit (the move into place and the link) until the test lets it go.
    const { local, blobs } = mirror.running.registry;
    const finish = local.uploads.finish.bind(local.uploads);
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let committed = false;
    local.uploads.finish = async (...args: Parameters<typeof finish>) => {
      await gate;
      const blob = await finish(...args);
      committed = true;
      return blob;
    };
    try {
      const url = `/v2/library/committing/blobs/${img.layer.digest}`;
      const cold = await m.fetch(url);
      assert.equal(sha256(Buffer.from(await cold.arrayBuffer())), img.layer.digest);
      // The fill is verified, not committed: the next pulls get the bytes now, from the disk.
      const warm = await m.fetch(url, { signal: AbortSignal.timeout(15_000) });
      assert.equal(warm.status, 200);
      assert.equal(sha256(Buffer.from(await warm.arrayBuffer())), img.layer.digest);
      const part = await m.fetch(url, { headers: { range: 'bytes=100-4195' } });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), layer.subarray(100, 4196));
      // The zero-copy path too: the file handed to sendfile holds the verified bytes.
      const record = await blobs.stat('library/committing', img.layer.digest);
      const file = await blobs.openFile(record, { start: 0, end: 9 });
      assert.ok(file !== undefined, 'a file to send');
      const head = Buffer.alloc(10);
      readSync(file.fd, head, 0, 10, file.offset);
      await file.close();
      assert.deepEqual(head, layer.subarray(0, 10));
      // Another mirrored name the upstream does not have it under is still refused.
      assert.equal((await m.fetch(`/v2/library/elsewhere/blobs/${img.layer.digest}`)).status, 404);
      assert.equal(committed, false, 'all of this was served before the commit');
    } finally {
      release();
      local.uploads.finish = finish;
    }
    assert.ok(await blobCached(local, img.layer.digest), 'committed once let go');
    const after = await requestCounts(upstream.url);
    assert.equal(delta(before, after, 'blob GET'), 1, 'one upstream fetch');
  });

  it('caches nothing when the upstream is killed mid-blob, and cuts the client short', async () => {
    const img = await new Client(killable.url).pushImage('library/cut', '1', { layer: pseudoRandom(64 * 1024 * 1024, 'cut').toString('latin1') });
    await (await m.fetch('/v2/killable/cut/manifests/1', { headers: { accept: ALL } })).arrayBuffer();
    const received = await new Promise<number>((resolve) => {
      let n = 0;
      http.get(`${mirror.url}/v2/killable/cut/blobs/${img.layer.digest}`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', (chunk: Buffer) => {
          n += chunk.length;
          // A slow client: the mirror stops reading, the upstream stalls mid-blob; then it dies.
          res.pause();
          killable.kill('SIGKILL');
          setTimeout(() => {
            res.on('data', (c: Buffer) => (n += c.length));
            res.resume();
          }, 200);
        });
        res.on('error', () => resolve(n));
        res.on('close', () => resolve(n));
      });
    });
    assert.ok(received < img.layer.size, `the client got ${received} of ${img.layer.size} bytes`);
    const { local } = mirror.running.registry;
    assert.equal(await local.blobs.bytesPresent(img.layer.digest), false, 'nothing cached');
    const root = mirror.root ?? '';
    assert.deepEqual(await readdir(join(root, 'uploads')).catch(() => []), [], 'no upload left behind');
    const again = await m.fetch(`/v2/killable/cut/blobs/${img.layer.digest}`);
    assert.equal(again.status, 503, 'the upstream is gone: nothing to serve');
    assert.equal(await errorCode(again), 'UNAVAILABLE');
  });

  it('keeps private pushes working beside mirrored names, and refuses pushes to mirrored ones', async () => {
    const own = await m.pushImage('alice/app', '1');
    const res = await m.fetch('/v2/alice/app/manifests/1', { headers: { accept: ALL } });
    assert.equal(res.headers.get('docker-content-digest'), own.descriptor.digest);
    const refused = await m.putManifest('library/app', 'mine', JSON.parse(own.body) as object, OCI_MANIFEST);
    assert.equal(refused.status, 405);
    assert.equal(await errorCode(refused), 'UNSUPPORTED');
    const catalog = (await (await m.fetch('/v2/_catalog')).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('alice/app') && catalog.repositories.includes('library/app'));
  });

  it('never completes a blob whose bytes do not match its digest, and caches nothing', async () => {
    failStatus = 200;
    const digest = sha256('what the client asked for');
    // The status may or may not have gone out before the check failed; the body never completes.
    await assert.rejects(async () => (await m.fetch(`/v2/failing/x/blobs/${digest}`)).arrayBuffer());
    assert.equal(await mirror.running.registry.local.blobs.bytesPresent(digest), false);
    const status = (await (await m.fetch('/api/v1/mirror')).json()) as { upstreams: { name: string; lastError: { reason: string } | null }[] };
    assert.match(status.upstreams.find((u) => u.name === 'failing')?.lastError?.reason ?? '', /do not match/);
  });

  it('keeps 404 from the upstream a 404, and makes 429 and 5xx a 503 with the reason', async () => {
    const missing = await m.fetch('/v2/library/nothing/manifests/latest');
    assert.equal(missing.status, 404);
    assert.equal(await errorCode(missing), 'MANIFEST_UNKNOWN');
    const blob = await m.fetch(`/v2/library/nothing/blobs/${sha256('none')}`);
    assert.equal(blob.status, 404);
    for (const [status, reason] of [
      [429, 'rate limited by the upstream (429)'],
      [502, 'upstream answered 502'],
    ] as const) {
      failStatus = status;
      const res = await m.fetch('/v2/failing/x/manifests/latest');
      assert.equal(res.status, 503);
      const body = (await res.json()) as { errors: { code: string; detail: { reason: string } }[] };
      assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
      assert.equal(body.errors[0]?.detail.reason, reason);
    }
  });
});
