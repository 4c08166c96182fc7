/**
 * Finding 6 (issue 12): a manifest nested a million arrays deep was accepted, and the web UI's
 * manifest view then overflowed the stack re-serialising it (500). Pushes and mirror fetches now
 * refuse manifests nested deeper than MAX_MANIFEST_DEPTH; one stored before that (an older berth,
 * simulated by writing it straight into storage and the meta store) is still shown, without 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { Client, errorCode, OCI_MANIFEST, sha256 } from '../helpers/client.ts';
import { blobDataPath } from '../../src/storage/paths.ts';
import { MAX_MANIFEST_DEPTH } from '../../src/registry/manifest-parse.ts';
import type { MetaStore } from '../../src/meta/store.ts';
import type { StorageDriver } from '../../src/storage/driver.ts';

const LEVELS = 1_000_000;
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 };

/** An image manifest whose extra field `x` is `levels` arrays deep: about 2 MB for a million. */
function deepManifest(levels: number): Buffer<ArrayBuffer> {
  const head = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: CONFIG, layers: [] }).slice(0, -1);
  return Buffer.from(`${head},"x":${'['.repeat(levels)}${']'.repeat(levels)}}`);
}

/** Store a manifest the way an older berth did, bypassing today's checks; returns its digest. */
async function plant(store: { driver: StorageDriver; meta: MetaStore }, repo: string, tag: string, content: Buffer): Promise<string> {
  const digest = sha256(content);
  await store.driver.putContent(blobDataPath('sha256', digest.slice('sha256:'.length)), content);
  await store.meta.putManifest(
    repo,
    { digest, mediaType: OCI_MANIFEST, size: content.length, artifactType: CONFIG.mediaType, subject: null, annotations: null, createdAt: Date.now(), blobs: [], children: [] },
    tag,
  );
  return digest;
}

describe('deeply nested manifests', () => {
  let reg: TestRegistry;
  let upstream: TestRegistry;
  let mirror: TestRegistry;
  let client: Client;

  before(async () => {
    reg = await startTestRegistry();
    upstream = await startTestRegistry();
    mirror = await startTestRegistry({ config: { proxy: { upstreams: [{ name: 'up', prefix: 'mirrored/', remoteprefix: 'library/', url: upstream.url }] } } });
    client = new Client(reg.url);
  });
  after(async () => {
    await Promise.all([reg?.stop(), upstream?.stop(), mirror?.stop()]);
  });

  it('refuses a PUT of a manifest a million levels deep with 400 MANIFEST_INVALID', async () => {
    await client.pushBlob('alice/deep', '{}');
    const body = deepManifest(LEVELS);
    const res = await client.fetch('/v2/alice/deep/manifests/v1', { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 400);
    const error = ((await res.json()) as { errors: { code: string; detail: unknown }[] }).errors[0];
    assert.equal(error?.code, 'MANIFEST_INVALID');
    assert.deepEqual(error?.detail, { limit: MAX_MANIFEST_DEPTH });
    assert.equal((await client.fetch('/v2/alice/deep/manifests/v1', { method: 'HEAD' })).status, 404);
    // The limit itself is allowed: the check counts levels, it does not refuse arrays.
    const atLimit = await client.fetch('/v2/alice/deep/manifests/v2', {
      method: 'PUT',
      body: deepManifest(MAX_MANIFEST_DEPTH - 1),
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(atLimit.status, 201, await atLimit.text());
  });

  it('shows a deep manifest stored by an older registry without a 500', async () => {
    const digest = await plant(reg.running.registry, 'alice/old', 'v1', deepManifest(LEVELS));
    const view = await client.fetch('/api/v1/repositories/alice/old/_manifests/v1');
    assert.equal(view.status, 200, await view.clone().text());
    const detail = (await view.json()) as Record<string, unknown>;
    assert.equal(detail['digest'], digest);
    assert.equal(detail['manifest'], null, 'a manifest the view cannot bound is not sent back');
    const tags = await client.fetch('/api/v1/repositories/alice/old/_tags');
    assert.equal(tags.status, 200, await tags.clone().text());
    assert.deepEqual(((await tags.json()) as { tags: { name: string; platforms: unknown[] }[] }).tags.map((t) => [t.name, t.platforms]), [['v1', []]]);
    // The registry API serves the stored bytes as they are.
    const pulled = await client.fetch(`/v2/alice/old/manifests/${digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), digest);
  });

  it('refuses to cache a deep manifest fetched from a mirror upstream', async () => {
    await plant(upstream.running.registry, 'library/deep', 'v1', deepManifest(LEVELS));
    const res = await new Client(mirror.url).fetch('/v2/mirrored/deep/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(res.status, 503, 'the upstream is at fault, not the client');
    assert.equal(await errorCode(res), 'UNAVAILABLE');
    assert.equal(await mirror.running.registry.meta.resolveTag('mirrored/deep', 'v1'), undefined, 'nothing was cached');
    await assert.rejects(mirror.running.registry.local.manifests.storeFetched('mirrored/deep', deepManifest(LEVELS), OCI_MANIFEST, 'v1'), {
      code: 'BERTH_MANIFEST_INVALID',
    });
  });
});
