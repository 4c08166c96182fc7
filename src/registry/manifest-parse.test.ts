import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNesting, MAX_MANIFEST_DEPTH, parseManifest } from './manifest-parse.ts';
import { ManifestInvalidError } from './errors.ts';
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from './media-types.ts';

const dg = (c: string) => `sha256:${c.repeat(64)}`;
const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg('c'), size: 2 };
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: dg('1'), size: 3 };
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('parseManifest', () => {
  it('parses an image manifest: blobs, artifactType from config, subject', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], subject: { ...config, digest: dg('e') } }), OCI_MANIFEST);
    assert.equal(p.kind, 'image');
    assert.deepEqual(p.blobs.map((b) => b.digest), [dg('c'), dg('1')]);
    assert.equal(p.artifactType, config.mediaType);
    assert.equal(p.subject?.digest, dg('e'));
  });
  it('takes the media type from Content-Type when the body omits it, and guesses OCI otherwise', () => {
    assert.equal(parseManifest(buf({ schemaVersion: 2, config, layers: [] }), DOCKER_MANIFEST).mediaType, DOCKER_MANIFEST);
    assert.equal(parseManifest(buf({ schemaVersion: 2, manifests: [] }), undefined).mediaType, OCI_INDEX);
  });
  it('skips foreign layers with urls', () => {
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: dg('f'), size: 9, urls: ['https://example/x'] };
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [foreign, layer] }), DOCKER_MANIFEST);
    assert.deepEqual(p.blobs.map((b) => b.digest), [dg('c'), dg('1')]);
  });
  it('parses an index into children', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: dg('a'), size: 10, platform: { os: 'linux', architecture: 'amd64' } }] }), OCI_INDEX);
    assert.equal(p.kind, 'index');
    assert.deepEqual(p.children.map((c) => c.digest), [dg('a')]);
  });
  it('refuses mismatched types, bad descriptors and schema1', () => {
    const bad = [
      [buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] }), DOCKER_MANIFEST],
      [buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, digest: 'sha256:zz' }, layers: [] }), OCI_MANIFEST],
      [buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, size: -1 }, layers: [] }), OCI_MANIFEST],
      [buf({ schemaVersion: 3, mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
      [buf({ schemaVersion: 1, fsLayers: [] }), undefined],
      [buf({ schemaVersion: 2 }), undefined],
      [Buffer.from('{'), OCI_MANIFEST],
      // a media type with a control character (NUL cannot even be stored on PostgreSQL)
      [buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/x\u0000y', config, layers: [] }), OCI_MANIFEST],
      [buf({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, mediaType: 'application/x\ny' }, layers: [] }), OCI_MANIFEST],
    ] as const;
    for (const [body, type] of bad) assert.throws(() => parseManifest(body, type), ManifestInvalidError, body.toString());
  });
});

describe('checkNesting', () => {
  const nested = (depth: number, open = '[', close = ']') => Buffer.from(`${open.repeat(depth)}${close.repeat(depth)}`);

  it('accepts the limit and refuses one level more, arrays and objects alike', () => {
    checkNesting(nested(MAX_MANIFEST_DEPTH));
    assert.throws(() => checkNesting(nested(MAX_MANIFEST_DEPTH + 1)), ManifestInvalidError);
    const objects = Buffer.from(`${'{"a":'.repeat(MAX_MANIFEST_DEPTH + 1)}1${'}'.repeat(MAX_MANIFEST_DEPTH + 1)}`);
    assert.throws(() => checkNesting(objects), { code: 'BERTH_MANIFEST_INVALID', detail: { limit: MAX_MANIFEST_DEPTH } });
  });

  it('does not count brackets inside strings, escaped quotes and multi-byte characters included', () => {
    const text = `["${'[{'.repeat(100)}", "\\\\", "\\"[[[[", "é€😀${'['.repeat(100)}"]`;
    assert.doesNotThrow(() => JSON.parse(text));
    checkNesting(Buffer.from(text), 1);
    assert.throws(() => checkNesting(Buffer.from(`["\\\\"${'['.repeat(2)}]]]`), 2), ManifestInvalidError);
  });

  it('refuses a manifest a million levels deep without overflowing the stack', () => {
    const deep = Buffer.from(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","x":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`);
    assert.throws(() => parseManifest(deep, OCI_MANIFEST), /deeper than 64 levels/);
  });
});
