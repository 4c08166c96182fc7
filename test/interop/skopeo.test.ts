/**
 * Interop with skopeo (containers/image): push, inspect, multi-arch with --all, tag
 * listing, pull back into an OCI layout, delete, cross-repository mount, and the Docker
 * schema 2 format.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT, writeMultiArchLayout, writeSingleArchLayout, type MultiArchLayout, type SingleArchLayout } from '../fixtures/oci.ts';
import { headManifest, requireTools, run, runOk, startBerth, tempDir, type BerthProcess, type RunResult } from '../helpers/process.ts';

const tools = requireTools('skopeo');

interface Inspect {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  Layers: string[];
}

interface ManifestJson {
  mediaType?: string;
  manifests?: { digest: string; mediaType: string; platform?: { architecture: string; os: string } }[];
  config?: { mediaType: string; digest: string };
  layers?: { mediaType: string; digest: string }[];
}

describe('skopeo interop', () => {
  let server: BerthProcess;
  let work: string;
  let single: SingleArchLayout;
  let multi: MultiArchLayout;

  const logs = (): string => `--- registry logs (${server.url}) ---\n${server.logs().slice(-8000)}`;
  const skopeo = (...args: string[]): Promise<RunResult> => runOk('skopeo', args, { context: logs });
  const ref = (path: string): string => `docker://${server.host}/${path}`;
  const inspect = async (path: string, ...flags: string[]): Promise<Inspect> =>
    JSON.parse((await skopeo('inspect', '--tls-verify=false', ...flags, ref(path))).stdout) as Inspect;
  const raw = async (path: string): Promise<{ text: string; json: ManifestJson }> => {
    const text = (await skopeo('inspect', '--raw', '--tls-verify=false', ref(path))).stdout;
    return { text, json: JSON.parse(text) as ManifestJson };
  };
  const push = (src: string, dest: string, ...flags: string[]): Promise<RunResult> =>
    skopeo('copy', '--dest-tls-verify=false', ...flags, src, ref(dest));

  before(async () => {
    if (tools.skip !== false) return;
    tools.check();
    server = await startBerth();
    work = await tempDir('skopeo');
    single = await writeSingleArchLayout(join(work, 'single'), { tag: '1.0', label: 'skopeo' });
    multi = await writeMultiArchLayout(join(work, 'multi'), { tag: '2.0', label: 'skopeo-multi' });
  });

  after(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('copies an OCI layout into the registry, keeping the manifest digest', { skip: tools.skip }, async () => {
    await push(`oci:${single.dir}:1.0`, 'alice/app:1.0');
    const head = await headManifest(server, 'alice/app', '1.0');
    assert.equal(head.status, 200);
    assert.equal(head.digest, single.image.manifestDigest);
    assert.equal(head.mediaType, MT.ociManifest);
  });

  it('inspects the pushed image: digest, layers, platform, tags', { skip: tools.skip }, async () => {
    const info = await inspect('alice/app:1.0');
    assert.equal(info.Digest, single.image.manifestDigest);
    assert.deepEqual(info.Layers, single.image.layerDigests);
    assert.equal(info.Architecture, single.image.architecture);
    assert.equal(info.Os, 'linux');
    assert.deepEqual(info.RepoTags, ['1.0']);
    assert.equal((await raw('alice/app:1.0')).text, single.image.manifest.toString());
    const config = (await skopeo('inspect', '--config', '--raw', '--tls-verify=false', ref('alice/app:1.0'))).stdout;
    assert.equal(config, single.image.config.toString());
  });

  it('copies a multi-arch index with --all; every platform inspects', { skip: tools.skip }, async () => {
    await push(`oci:${multi.dir}:2.0`, 'alice/multi:2.0', '--all');
    const index = await raw('alice/multi:2.0');
    assert.equal(index.text, multi.index.toString());
    assert.equal(index.json.mediaType, MT.ociIndex);
    assert.deepEqual(
      index.json.manifests?.map((m) => m.digest),
      multi.images.map((i) => i.manifestDigest),
    );
    assert.equal((await headManifest(server, 'alice/multi', '2.0')).digest, multi.indexDigest);
    for (const image of multi.images) {
      const info = await inspect('alice/multi:2.0', '--override-arch', image.architecture, '--override-os', 'linux');
      assert.equal(info.Digest, multi.indexDigest, 'skopeo reports the digest of the index it resolved');
      assert.equal(info.Architecture, image.architecture);
      assert.deepEqual(info.Layers, image.layerDigests);
      const byDigest = await inspect(`alice/multi@${image.manifestDigest}`);
      assert.equal(byDigest.Digest, image.manifestDigest);
      assert.equal(byDigest.Architecture, image.architecture);
    }
  });

  it('lists tags', { skip: tools.skip }, async () => {
    await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('alice/app:1.0'), ref('alice/app:1.1'));
    await push(`oci:${single.dir}:1.0`, 'alice/app:latest');
    const listed = JSON.parse((await skopeo('list-tags', '--tls-verify=false', ref('alice/app'))).stdout) as {
      Repository: string;
      Tags: string[];
    };
    assert.equal(listed.Repository, `${server.host}/alice/app`);
    assert.deepEqual([...listed.Tags].sort(), ['1.0', '1.1', 'latest']);
  });

  it('copies back to a new OCI layout with the same digests', { skip: tools.skip }, async () => {
    const back = join(work, 'back');
    await skopeo('copy', '--src-tls-verify=false', ref('alice/app:1.0'), `oci:${back}:copied`);
    const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as ManifestJson;
    assert.equal(index.manifests?.[0]?.digest, single.image.manifestDigest);
    for (const digest of [single.image.configDigest, ...single.image.layerDigests]) {
      const blob = await readFile(join(back, 'blobs', 'sha256', digest.slice(7)));
      assert.ok(blob.equals(single.image.blobs.get(digest) ?? Buffer.alloc(0)), `blob ${digest} round-trips`);
    }
    const backMulti = join(work, 'back-multi');
    await skopeo('copy', '--all', '--src-tls-verify=false', ref('alice/multi:2.0'), `oci:${backMulti}:copied`);
    const multiIndex = JSON.parse(await readFile(join(backMulti, 'index.json'), 'utf8')) as ManifestJson;
    assert.equal(multiIndex.manifests?.[0]?.digest, multi.indexDigest);
  });

  it('copies between repositories of the registry through a cross-repository mount', { skip: tools.skip }, async () => {
    const result = await skopeo('--debug', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('alice/app:1.0'), ref('bob/mirror:1.0'));
    assert.equal((await inspect('bob/mirror:1.0')).Digest, single.image.manifestDigest);
    const mounts = result.stderr.split('\n').filter((l) => l.includes('Trying to mount') || l.includes('mount OK'));
    assert.ok(
      mounts.some((l) => l.includes('mount OK')),
      `expected skopeo to mount a layer from alice/app; its mount lines:\n${mounts.join('\n') || '(none)'}\n${logs()}`,
    );
  });

  it('deletes by tag and by digest; the image no longer inspects', { skip: tools.skip }, async () => {
    await push(`oci:${single.dir}:1.0`, 'alice/gone:1.0');
    await skopeo('delete', '--tls-verify=false', ref('alice/gone:1.0'));
    const byTag = await run('skopeo', ['inspect', '--tls-verify=false', ref('alice/gone:1.0')]);
    assert.notEqual(byTag.code, 0, 'inspect of a deleted tag must fail');
    assert.match(byTag.stderr, /manifest unknown|not found|404/i);

    await push(`oci:${single.dir}:1.0`, 'alice/gone2:1.0');
    const digestRef = `alice/gone2@${single.image.manifestDigest}`;
    await skopeo('delete', '--tls-verify=false', ref(digestRef));
    const byDigest = await run('skopeo', ['inspect', '--tls-verify=false', ref(digestRef)]);
    assert.notEqual(byDigest.code, 0, 'inspect of a deleted digest must fail');
    assert.equal((await headManifest(server, 'alice/gone2', single.image.manifestDigest)).status, 404);
    assert.equal((await headManifest(server, 'alice/gone2', '1.0')).status, 404);
    // the same manifest in another repository is untouched
    assert.equal((await headManifest(server, 'alice/app', single.image.manifestDigest)).status, 200);
  });

  it('keeps the Docker schema 2 media types with --format v2s2', { skip: tools.skip }, async () => {
    await push(`oci:${single.dir}:1.0`, 'alice/dockerfmt:1.0', '--format', 'v2s2');
    const manifest = await raw('alice/dockerfmt:1.0');
    assert.equal(manifest.json.mediaType, MT.dockerManifest);
    assert.equal(manifest.json.config?.mediaType, MT.dockerConfig);
    assert.deepEqual(manifest.json.layers?.map((l) => l.mediaType), single.image.layerDigests.map(() => MT.dockerLayerGzip));
    assert.deepEqual(manifest.json.layers?.map((l) => l.digest), single.image.layerDigests);
    const head = await headManifest(server, 'alice/dockerfmt', '1.0');
    assert.equal(head.mediaType, MT.dockerManifest);
    const info = await inspect('alice/dockerfmt:1.0');
    assert.equal(info.Digest, head.digest);
    assert.notEqual(info.Digest, single.image.manifestDigest);
  });

  it('round-trips a 16 MiB layer byte for byte', { skip: tools.skip }, async () => {
    const big = await writeSingleArchLayout(join(work, 'big'), { tag: 'big', label: 'skopeo-big', dataBytes: 16 << 20 });
    await push(`oci:${big.dir}:big`, 'alice/big:1.0');
    assert.equal((await headManifest(server, 'alice/big', '1.0')).digest, big.image.manifestDigest);
    const back = join(work, 'big-back');
    await skopeo('copy', '--src-tls-verify=false', ref('alice/big:1.0'), `oci:${back}:big`);
    for (const digest of big.image.layerDigests) {
      const blob = await readFile(join(back, 'blobs', 'sha256', digest.slice(7)));
      assert.ok(blob.equals(big.image.blobs.get(digest) ?? Buffer.alloc(0)), `layer ${digest} (${blob.length} bytes) round-trips`);
    }
  });

  it('stores zstd-compressed OCI layers and serves them back', { skip: tools.skip }, async () => {
    // an image of its own: skopeo would reuse gzip blobs it knows the registry already has
    const fresh = await writeSingleArchLayout(join(work, 'zstd'), { tag: 'z', label: 'skopeo-zstd', architecture: 'riscv64' });
    await push(`oci:${fresh.dir}:z`, 'alice/zstd:1.0', '--format', 'oci', '--dest-compress-format', 'zstd');
    const manifest = await raw('alice/zstd:1.0');
    assert.deepEqual(manifest.json.layers?.map((l) => l.mediaType), fresh.image.layerDigests.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'));
    assert.equal(manifest.json.config?.digest, fresh.image.configDigest);
    const back = join(work, 'zstd-back');
    await skopeo('copy', '--src-tls-verify=false', ref('alice/zstd:1.0'), `oci:${back}:zstd`);
    const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as ManifestJson;
    assert.equal(index.manifests?.[0]?.digest, (await headManifest(server, 'alice/zstd', '1.0')).digest);
  });
});
