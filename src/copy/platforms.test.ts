import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { OCI_INDEX, OCI_MANIFEST } from '../registry/media-types.ts';
import { narrowIndex, parsePlatform } from './platforms.ts';
import type { ManifestBytes } from './transport.ts';

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const d = (n: number) => `sha256:${String(n).repeat(64)}`;

function index(manifests: unknown[]): ManifestBytes {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests, annotations: { a: 'b' } }));
  return { bytes, mediaType: OCI_INDEX, digest: digestOf(bytes) };
}

const entry = (n: number, platform: Record<string, string>, annotations?: Record<string, string>) => ({ mediaType: OCI_MANIFEST, digest: d(n), size: 100 + n, platform, ...(annotations && { annotations }) });

describe('platform filters', () => {
  const top = index([
    entry(1, { os: 'linux', architecture: 'amd64' }),
    entry(2, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
    // buildx's attestation of the amd64 image
    entry(4, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.digest': d(1), 'vnd.docker.reference.type': 'attestation-manifest' }),
  ]);

  it('keeps the images of the platforms named, with their attestations, and the rest of the index as it was', () => {
    const narrowed = narrowIndex(top, [parsePlatform('linux/amd64'), parsePlatform('linux/arm/v7')]);
    assert.ok(narrowed !== undefined);
    const doc = JSON.parse(narrowed.bytes.toString()) as { manifests: { digest: string }[]; annotations: unknown };
    assert.deepEqual(doc.manifests.map((m) => m.digest), [d(1), d(3), d(4)]);
    assert.deepEqual(doc.annotations, { a: 'b' });
    assert.equal(narrowed.digest, digestOf(narrowed.bytes));
    assert.equal(narrowed.mediaType, OCI_INDEX);
    // the same every time: a second run sees the destination has it
    assert.deepEqual(narrowIndex(top, [parsePlatform('linux/amd64'), parsePlatform('linux/arm/v7')]), narrowed);
  });

  it('matches any variant when the pattern names none, and only its own when it does', () => {
    assert.deepEqual(JSON.parse(narrowIndex(top, [parsePlatform('linux/arm64')])?.bytes.toString() ?? '{}').manifests.map((m: { digest: string }) => m.digest), [d(2)]);
    assert.equal(narrowIndex(top, [parsePlatform('linux/arm/v6')]), undefined);
  });

  it('gives the index itself when it keeps every image, nothing when it keeps none, and an image manifest as it is', () => {
    const all = narrowIndex(top, ['linux/amd64', 'linux/arm64', 'linux/arm'].map(parsePlatform));
    assert.equal(all, top);
    assert.equal(narrowIndex(top, [parsePlatform('windows/amd64')]), undefined);
    const image: ManifestBytes = { bytes: Buffer.from('{}'), mediaType: OCI_MANIFEST, digest: d(9) };
    assert.equal(narrowIndex(image, [parsePlatform('windows/amd64')]), image);
  });

  it('refuses what is not os/architecture[/variant]', () => {
    for (const bad of ['linux', 'linux/', '/amd64', 'Linux/AMD64', 'linux/arm/v7/x', 'linux amd64']) {
      assert.throws(() => parsePlatform(bad), /os\/architecture/, bad);
    }
  });
});
