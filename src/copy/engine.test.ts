import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { copyImage, pickPlatform } from './engine.ts';
import type { BlobRef, ImageDestination, ImageSource, ManifestBytes, RegistryLocation } from './transport.ts';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function manifestOf(value: unknown, mediaType: string): ManifestBytes {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, mediaType, digest: sha(bytes) };
}

function blobOf(text: string): { ref: BlobRef; bytes: Buffer } {
  const bytes = Buffer.from(text);
  return { ref: { digest: sha(bytes), size: bytes.length, mediaType: 'application/vnd.oci.image.layer.v1.tar' }, bytes };
}

function image(layers: string[]): { manifest: ManifestBytes; blobs: Buffer[] } {
  const config = blobOf(`{"config":${JSON.stringify(layers)}}`);
  const ls = layers.map(blobOf);
  const manifest = manifestOf({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { ...config.ref, mediaType: 'application/vnd.oci.image.config.v1+json' }, layers: ls.map((l) => l.ref) }, 'application/vnd.oci.image.manifest.v1+json');
  return { manifest, blobs: [config.bytes, ...ls.map((l) => l.bytes)] };
}

class MemorySource implements ImageSource {
  readonly description = 'memory source';
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, ManifestBytes>();
  reads: { digest: string; offset: number }[] = [];
  constructor(
    private readonly top: ManifestBytes,
    readonly registry?: RegistryLocation,
  ) {
    this.manifests.set(top.digest, top);
  }
  add(...blobs: Buffer[]): void {
    for (const b of blobs) this.blobs.set(sha(b), b);
  }
  async manifest(): Promise<ManifestBytes> {
    return this.top;
  }
  async childManifest(digest: string): Promise<ManifestBytes> {
    const m = this.manifests.get(digest);
    assert.ok(m, digest);
    return m;
  }
  async blob(ref: BlobRef, offset = 0): Promise<Readable> {
    this.reads.push({ digest: ref.digest, offset });
    const b = this.blobs.get(ref.digest);
    assert.ok(b);
    return Readable.from([b.subarray(offset)]);
  }
  async close(): Promise<void> {}
}

class MemoryDestination implements ImageDestination {
  readonly description = 'memory destination';
  readonly blobs = new Map<string, Buffer>();
  readonly manifests: { digest: string; tag: string | undefined; blobsThen: number }[] = [];
  /** Bytes of a blob the destination kept from an interrupted upload. */
  readonly partial = new Map<string, Buffer>();
  /** Fail the first put of these digests after this many bytes (keeping what came). */
  readonly failAfter = new Map<string, number>();
  mounted: string[] = [];
  committed = false;
  constructor(readonly registry?: RegistryLocation) {}
  async hasBlob(ref: BlobRef): Promise<boolean> {
    return this.blobs.has(ref.digest);
  }
  async mountBlob(ref: BlobRef, from: string): Promise<boolean> {
    this.mounted.push(`${from}@${ref.digest}`);
    this.blobs.set(ref.digest, Buffer.alloc(0));
    return true;
  }
  async putBlob(ref: BlobRef, open: (offset: number) => Promise<Readable>, sent: (n: number) => void): Promise<void> {
    const have = this.partial.get(ref.digest) ?? Buffer.alloc(0);
    const rest = await buffer(await open(have.length));
    const fail = this.failAfter.get(ref.digest);
    if (fail !== undefined) {
      this.failAfter.delete(ref.digest);
      this.partial.set(ref.digest, Buffer.concat([have, rest.subarray(0, fail)]));
      sent(fail);
      throw new Error('connection reset');
    }
    const whole = Buffer.concat([have, rest]);
    sent(rest.length);
    assert.equal(sha(whole), ref.digest, 'the destination checks the digest');
    this.blobs.set(ref.digest, whole);
  }
  async putManifest(m: ManifestBytes, tag: string | undefined): Promise<void> {
    this.manifests.push({ digest: m.digest, tag, blobsThen: this.blobs.size });
  }
  async commit(): Promise<void> {
    this.committed = true;
  }
  async close(): Promise<void> {}
}

describe('copyImage', () => {
  it('sends each blob once, skips what the destination has, and puts the manifest under its tag last', async () => {
    const img = image(['layer one', 'layer two', 'layer one']);
    const src = new MemorySource(img.manifest);
    src.add(...img.blobs);
    const dst = new MemoryDestination();
    dst.blobs.set(sha('layer two'), Buffer.from('layer two'));
    const result = await copyImage(src, dst, { tag: '1.0' });
    assert.deepEqual(result.blobs, { copied: 2, skipped: 1, mounted: 0 });
    assert.equal(result.bytes, img.blobs[0]!.length + 'layer one'.length);
    assert.equal(result.digest, img.manifest.digest);
    assert.deepEqual(dst.manifests, [{ digest: img.manifest.digest, tag: '1.0', blobsThen: 3 }]);
    assert.ok(dst.committed);
  });

  it('mounts from the source repository when both are on one registry', async () => {
    const img = image(['a']);
    const src = new MemorySource(img.manifest, { host: 'reg:5000', repository: 'alice/app' });
    src.add(...img.blobs);
    const dst = new MemoryDestination({ host: 'reg:5000', repository: 'bob/app' });
    const result = await copyImage(src, dst, { tag: 'x' });
    assert.deepEqual(result.blobs, { copied: 0, skipped: 0, mounted: 2 });
    assert.ok(dst.mounted.every((m) => m.startsWith('alice/app@')));
    assert.equal(src.reads.length, 0);
  });

  it('tries a failed blob again from where the destination got to', async () => {
    const img = image(['x'.repeat(1000)]);
    const src = new MemorySource(img.manifest);
    src.add(...img.blobs);
    const dst = new MemoryDestination();
    const layer = sha('x'.repeat(1000));
    dst.failAfter.set(layer, 600);
    const retries: number[] = [];
    const result = await copyImage(src, dst, { backoffMs: 1, observer: { blobRetry: (_r, n) => retries.push(n) } });
    assert.deepEqual(retries, [1]);
    assert.deepEqual(src.reads.filter((r) => r.digest === layer).map((r) => r.offset), [0, 600], 'the second try reads the rest only');
    assert.equal(dst.blobs.get(layer)?.length, 1000);
    assert.equal(result.blobs.copied, 2);
  });

  it('fails a blob the source cuts short, and puts no manifest', async () => {
    const img = image(['complete layer']);
    const src = new MemorySource(img.manifest);
    src.add(...img.blobs);
    src.blobs.set(sha('complete layer'), Buffer.from('complete'));
    const dst = new MemoryDestination();
    await assert.rejects(copyImage(src, dst, { backoffMs: 1 }), /ended after 8 of its 14 bytes/);
    assert.deepEqual(dst.manifests, []);
    assert.equal(dst.committed, false);
  });

  it('copies an index whole with all, or the image for the platform without', async () => {
    const amd = image(['amd64 layer']);
    const arm = image(['arm64 layer']);
    const index = manifestOf(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: amd.manifest.mediaType, digest: amd.manifest.digest, size: amd.manifest.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: arm.manifest.mediaType, digest: arm.manifest.digest, size: arm.manifest.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      },
      'application/vnd.oci.image.index.v1+json',
    );
    const src = new MemorySource(index);
    src.manifests.set(amd.manifest.digest, amd.manifest);
    src.manifests.set(arm.manifest.digest, arm.manifest);
    src.add(...amd.blobs, ...arm.blobs);
    const all = new MemoryDestination();
    const whole = await copyImage(src, all, { all: true, tag: 'multi' });
    assert.equal(whole.digest, index.digest);
    assert.equal(whole.images, 2);
    assert.deepEqual(all.manifests.at(-1), { digest: index.digest, tag: 'multi', blobsThen: 4 }, 'the index last, under the tag');
    assert.deepEqual(new Set(all.manifests.slice(0, 2).map((m) => m.tag)), new Set([undefined]));
    const one = new MemoryDestination();
    const picked = await copyImage(src, one, { tag: 'arm', platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(picked.digest, arm.manifest.digest);
    assert.deepEqual(one.manifests, [{ digest: arm.manifest.digest, tag: 'arm', blobsThen: 2 }]);
    await assert.rejects(copyImage(src, new MemoryDestination(), { platform: { os: 'linux', architecture: 's390x' } }), /no image for linux\/s390x: copy them all with --all/);
    assert.equal(pickPlatform({ manifests: [] }, { os: 'linux', architecture: 'amd64' }), undefined);
  });

  it('refuses a manifest that names an invalid blob, or a type it does not copy', async () => {
    const bad = manifestOf({ schemaVersion: 2, config: { digest: 'sha256:../../etc', size: 1 }, layers: [] }, 'application/vnd.oci.image.manifest.v1+json');
    await assert.rejects(copyImage(new MemorySource(bad), new MemoryDestination()), /invalid blob/);
    const schema1 = manifestOf({ schemaVersion: 1 }, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    await assert.rejects(copyImage(new MemorySource(schema1), new MemoryDestination()), /cannot copy a manifest of type/);
  });
});
