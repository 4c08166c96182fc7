import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobDataPath } from '../storage/paths.ts';
import { digestOf } from './digest.ts';
import { MAX_CONFIG_BYTES } from './inspector.ts';
import { MAX_MANIFEST_DEPTH } from './manifest-parse.ts';
import { OCI_INDEX, OCI_MANIFEST } from './media-types.ts';
import { Registry } from './registry.ts';

const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

describe('manifest inspector', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  let driver: MemoryDriver;
  let registry: Registry;

  /** Bytes committed to storage and linked to the repository, as a finished upload leaves them. */
  async function blob(repo: string, data: Buffer | string, mediaType: string) {
    const bytes = Buffer.from(data);
    const digest = digestOf(bytes);
    await driver.putContent(blobDataPath('sha256', digest.slice(7)), bytes);
    await meta.linkBlob(repo, { digest, size: bytes.length });
    return { mediaType, digest, size: bytes.length };
  }

  async function image(repo: string, tag: string, config: { mediaType: string; digest: string; size: number }, extra: object = {}) {
    const layer = await blob(repo, `layer of ${tag}`, LAYER);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra }));
    const { digest } = await registry.manifests.put(repo, tag, body, OCI_MANIFEST);
    return { mediaType: OCI_MANIFEST, digest, size: body.length, layer };
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-inspector-'));
    meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
    driver = new MemoryDriver();
    registry = new Registry({ driver, meta, deleteEnabled: true, readOnly: false });
  });
  afterEach(async () => {
    await meta.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('shows an image with its config, an index with its platforms, and their sizes', async () => {
    const config = await blob('r/app', JSON.stringify({ os: 'linux', architecture: 'amd64', config: { Cmd: ['run'] } }), IMAGE_CONFIG);
    const amd64 = await image('r/app', 'amd64', config);
    const arm = await image('r/app', 'arm64', await blob('r/app', JSON.stringify({ os: 'linux', architecture: 'arm64', variant: 'v8' }), IMAGE_CONFIG));
    const attestation = await image('r/app', 'att', await blob('r/app', '{}', 'application/vnd.in-toto+json'));
    const platforms = [
      { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { ...attestation, platform: { os: 'unknown', architecture: 'unknown' } },
    ].map(({ mediaType, digest, size, platform }) => ({ mediaType, digest, size, platform }));
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: platforms }));
    await registry.manifests.put('r/app', 'latest', index, OCI_INDEX);

    const page = await registry.inspector.tags('r/app', { text: '', sort: 'name', order: 'asc', offset: 0, limit: 10 });
    assert.deepEqual(
      page.tags.map((t) => [t.name, t.platforms]),
      [
        ['amd64', [{ os: 'linux', architecture: 'amd64' }]],
        ['arm64', [{ os: 'linux', architecture: 'arm64', variant: 'v8' }]],
        ['att', []],
        ['latest', [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }]],
      ],
    );
    const amd64Size = amd64.size + config.size + amd64.layer.size;
    assert.equal(page.tags[0]?.size, amd64Size);

    const detail = await registry.inspector.detail('r/app', 'amd64');
    assert.equal(detail.kind, 'image');
    assert.deepEqual(detail.config, { digest: config.digest, mediaType: IMAGE_CONFIG, size: config.size, os: 'linux', architecture: 'amd64', cmd: ['run'] });
    assert.deepEqual(detail.history, []);
    assert.equal(detail.totalSize, amd64Size);
    assert.deepEqual(detail.tags, ['amd64']);
    const ix = await registry.inspector.detail('r/app', 'latest');
    assert.equal(ix.kind, 'index');
    assert.deepEqual(ix.platforms?.map((p) => p.digest), [amd64.digest, arm.digest]);
    assert.equal(ix.config, undefined);
    assert.equal(ix.layers, undefined);
  });

  it('shows no config for an artifact, a config that is not JSON, or one over the cap', async () => {
    const empty = await blob('r/app', '{}', 'application/vnd.oci.empty.v1+json');
    const artifact = await registry.inspector.detail('r/app', (await image('r/app', 'sig', empty, { artifactType: 'application/vnd.example.signature' })).digest);
    assert.equal(artifact.kind, 'artifact');
    assert.equal(artifact.config, undefined);
    assert.equal(artifact.layers?.length, 1);

    const garbage = await blob('r/app', 'this is not JSON', IMAGE_CONFIG);
    const broken = await registry.inspector.detail('r/app', (await image('r/app', 'broken', garbage)).digest);
    assert.equal(broken.kind, 'image');
    assert.equal(broken.config, undefined);
    assert.equal(broken.history, undefined);

    const huge = await blob('r/app', JSON.stringify({ os: 'linux', architecture: 'amd64', pad: 'x'.repeat(MAX_CONFIG_BYTES) }), IMAGE_CONFIG);
    assert.equal((await registry.inspector.detail('r/app', (await image('r/app', 'huge', huge)).digest)).config, undefined);
    const page = await registry.inspector.tags('r/app', { text: '', sort: 'name', order: 'asc', offset: 0, limit: 10 });
    assert.deepEqual(page.tags.map((t) => t.platforms), [[], [], []]);
  });

  it('deletes a repository manifest by manifest, with its tags, when deletes are on', async () => {
    const config = await blob('r/app', '{}', IMAGE_CONFIG);
    const one = await image('r/app', 'one', config);
    const two = await image('r/app', 'two', config, { annotations: { n: '2' } });
    const deleted: string[] = [];
    for await (const digest of registry.deleteRepository('r/app')) deleted.push(digest);
    assert.deepEqual(deleted.sort(), [one.digest, two.digest].sort());
    assert.deepEqual(await meta.listRepositories({}), []);
    await assert.rejects(registry.inspector.tags('r/app', { text: '', sort: 'name', order: 'asc', offset: 0, limit: 10 }), { code: 'BERTH_NAME_UNKNOWN' });
    await assert.rejects(async () => {
      for await (const _ of registry.deleteRepository('r/app')) assert.fail('nothing to delete');
    }, { code: 'BERTH_NAME_UNKNOWN' });
    await image('r/kept', 'v1', await blob('r/kept', '{}', IMAGE_CONFIG));
    const closed = new Registry({ driver, meta, deleteEnabled: false, readOnly: false });
    await assert.rejects(async () => {
      for await (const _ of closed.deleteRepository('r/kept')) assert.fail('deletes are off');
    }, { code: 'BERTH_UNSUPPORTED' });
    assert.deepEqual(await meta.listManifests('r/kept'), [(await meta.resolveTag('r/kept', 'v1'))?.digest]);
  });

  it('hands over the manifest as stored, and one stored before the depth limit by its record only', async () => {
    const config = await blob('r/app', JSON.stringify({ os: 'linux', architecture: 'amd64' }), IMAGE_CONFIG);
    const text = `{ "schemaVersion": 2,\n  "layers": [], "mediaType": "${OCI_MANIFEST}", "config": ${JSON.stringify(config)} }`;
    const { digest } = await registry.manifests.put('r/app', 'spaced', Buffer.from(text), OCI_MANIFEST);
    assert.equal((await registry.inspector.detail('r/app', digest)).manifest, text, 'byte for byte, never re-serialised');

    // An older registry stored this one; parsing it today is refused, so the inspector does not.
    const levels = MAX_MANIFEST_DEPTH * 1000;
    const deep = Buffer.from(`${text.slice(0, -1)}, "x": ${'['.repeat(levels)}${']'.repeat(levels)} }`);
    const deepDigest = digestOf(deep);
    await driver.putContent(blobDataPath('sha256', deepDigest.slice(7)), deep);
    const record = { digest: deepDigest, mediaType: OCI_MANIFEST, size: deep.length, artifactType: IMAGE_CONFIG, subject: null, annotations: null, createdAt: 1 };
    await meta.putManifest('r/app', { ...record, blobs: [config.digest], children: [] }, 'deep');
    const detail = await registry.inspector.detail('r/app', 'deep');
    assert.equal(detail.manifest, null);
    assert.equal(detail.kind, 'image');
    assert.equal(detail.layers, undefined);
    assert.deepEqual(detail.tags, ['deep']);
    const page = await registry.inspector.tags('r/app', { text: 'deep', sort: 'name', order: 'asc', offset: 0, limit: 10 });
    assert.deepEqual(page.tags.map((t) => [t.name, t.platforms]), [['deep', []]]);
  });
});
