import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltImage, sha256, writeDockerArchive, writeMultiArchLayout, writeSingleArchLayout } from '../../test/fixtures/oci.ts';
import { tar, type TarEntry } from '../../test/fixtures/tar.ts';
import { startDockerd, stopDockerd } from '../../test/helpers/dockerd.ts';
import { requireTools, runOk, tempDir } from '../../test/helpers/process.ts';
import { dockerArchiveDestination, dockerArchiveSource, readDockerSave } from './docker-archive.ts';
import { copyImage } from './engine.ts';
import { copyInto, digestStream, verifyBlobs } from './file-test-support.ts';
import { ociLayoutSource } from './oci-layout.ts';
import { CopyError, type ManifestBytes, type SequentialSource } from './transport.ts';

const skopeo = requireTools('skopeo');
const docker = requireTools('skopeo', 'docker', 'dockerd');
const hex = (digest: string): string => digest.slice('sha256:'.length);

/** A Docker 25+ `docker save` archive: an OCI layout of `images` plus manifest.json into blobs/. */
async function writeDocker25Archive(file: string, images: { image: BuiltImage; repoTag: string }[]): Promise<void> {
  const entries: TarEntry[] = [{ name: 'blobs/' }, { name: 'blobs/sha256/' }];
  const seen = new Set<string>();
  for (const { image } of images) {
    for (const [digest, bytes] of [...image.blobs, [image.manifestDigest, image.manifest] as const]) {
      if (!seen.has(digest)) entries.push({ name: `blobs/sha256/${hex(digest)}`, content: bytes });
      seen.add(digest);
    }
  }
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map(({ image, repoTag }) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: image.manifestDigest,
      size: image.manifestSize,
      annotations: { 'io.containerd.image.name': `docker.io/library/${repoTag}`, 'org.opencontainers.image.ref.name': repoTag.split(':')[1] },
    })),
  };
  const manifest = images.map(({ image, repoTag }) => ({
    Config: `blobs/sha256/${hex(image.configDigest)}`,
    RepoTags: [repoTag],
    Layers: image.layerDigests.map((d) => `blobs/sha256/${hex(d)}`),
  }));
  entries.push(
    { name: 'index.json', content: JSON.stringify(index) },
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
  );
  await writeFile(file, tar(entries));
}

interface Consumed {
  blobs: Map<string, number>;
  unnamed: string[];
  images: { manifest: ManifestBytes; children: ManifestBytes[]; names: string[] }[];
}

/** Reads a sequential source through, checking each named blob against its digest. */
async function consume(src: SequentialSource): Promise<Consumed> {
  const out: Consumed = { blobs: new Map(), unnamed: [], images: [] };
  for await (const entry of src.entries()) {
    if (entry.kind === 'blob') {
      const got = await digestStream(entry.body);
      assert.deepEqual(got, { digest: entry.ref.digest, size: entry.ref.size });
      out.blobs.set(entry.ref.digest, entry.ref.size);
    } else if (entry.kind === 'unnamed-blob') {
      const got = await digestStream(entry.body);
      assert.equal(got.size, entry.size);
      assert.equal(await entry.digest, got.digest);
      out.unnamed.push(got.digest);
    } else {
      out.images.push(...entry.images);
    }
  }
  await src.close();
  return out;
}

describe('docker-archive: source, destination and docker save streams', () => {
  let work: string;
  before(async () => {
    work = await tempDir('docker-archive');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('synthesizes the manifest skopeo does for a legacy archive, byte for byte', { skip: skopeo.skip }, async () => {
    skopeo.check();
    const legacy = join(work, 'legacy1.tar');
    const image = await writeDockerArchive(legacy, { repoTag: 'probe/legacy:v1', label: 'docker-legacy' });
    // and skopeo's own docker-archive: <diffid>.tar files with <id>/layer.tar symlinks, docker.io/ names
    const skopeoFile = join(work, 'skopeo1.tar');
    await runOk('skopeo', ['copy', '-q', `docker-archive:${legacy}`, `docker-archive:${skopeoFile}:probe/legacy:v2`]);
    for (const [file, name] of [[legacy, 'probe/legacy:v1'], [skopeoFile, 'probe/legacy:v2'], [skopeoFile, undefined]] as const) {
      const src = await dockerArchiveSource(file, name);
      const manifest = await src.manifest();
      assert.equal(manifest.bytes.toString(), (await runOk('skopeo', ['inspect', '--raw', `docker-archive:${file}`])).stdout);
      const parsed = JSON.parse(manifest.bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
      assert.equal(parsed.config.digest, image.configDigest);
      assert.deepEqual(parsed.layers.map((l) => l.digest), image.diffIds);
      assert.equal(await verifyBlobs(src), 3);
      await src.close();
    }
    await assert.rejects((await dockerArchiveSource(legacy, 'probe/other:v1')).manifest(), (err: CopyError) => err.code === 'BERTH_COPY_NOT_FOUND' && /probe\/legacy:v1/.test(err.message));
  });

  it('reads a Docker 25+ archive by its OCI manifest, picking the image by NAME:TAG', async () => {
    const one = await writeSingleArchLayout(join(work, 'fixture2a'), { label: 'docker25-a' });
    // past 4 MiB a named blob streams instead of being read whole first
    const two = await writeSingleArchLayout(join(work, 'fixture2b'), { label: 'docker25-b', dataBytes: 5 << 20 });
    const file = join(work, 'docker25.tar');
    await writeDocker25Archive(file, [{ image: one.image, repoTag: 'probe/one:1' }, { image: two.image, repoTag: 'probe/two:2' }]);
    for (const [name, image] of [['probe/one:1', one.image], ['docker.io/probe/two:2', two.image]] as const) {
      const src = await dockerArchiveSource(file, name);
      const manifest = await src.manifest();
      assert.equal(manifest.digest, image.manifestDigest);
      assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(await verifyBlobs(src), 3);
    }
    await assert.rejects((await dockerArchiveSource(file)).manifest(), (err: CopyError) => err.code === 'BERTH_COPY_AMBIGUOUS');
    // the same archive as a stream: manifests are not emitted as blobs, every blob is named
    const read = await consume(readDockerSave(createReadStream(file)));
    assert.deepEqual(read.unnamed, []);
    assert.deepEqual([...read.blobs.keys()].sort(), [...new Set([...one.image.blobs.keys(), ...two.image.blobs.keys()])].sort());
    assert.deepEqual(read.images.map((i) => [i.manifest.digest, i.names]), [[one.image.manifestDigest, ['probe/one:1']], [two.image.manifestDigest, ['probe/two:2']]]);
  });

  it('writes an archive skopeo and our source read with the same digests; refuses an index', { skip: skopeo.skip }, async () => {
    skopeo.check();
    const { image, dir } = await writeSingleArchLayout(join(work, 'fixture3'), { label: 'docker-dst' });
    const file = join(work, 'ours3.tar');
    await copyInto(ociLayoutSource(dir), dockerArchiveDestination(file, 'probe/written:v3'), 'latest');
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('.')), []);
    const back = await dockerArchiveSource(file, 'probe/written:v3');
    assert.equal((await back.manifest()).digest, image.manifestDigest);
    assert.equal(await verifyBlobs(back), 3);
    const config = (await runOk('skopeo', ['inspect', '--config', '--raw', `docker-archive:${file}`])).stdout;
    assert.equal(sha256(config), image.configDigest);
    await runOk('skopeo', ['copy', '-q', `docker-archive:${file}`, `oci:${join(work, 'back3')}:x`]);
    const copied = JSON.parse((await runOk('skopeo', ['inspect', '--config', `oci:${join(work, 'back3')}:x`])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(copied.rootfs.diff_ids, image.diffIds);
    const multi = await writeMultiArchLayout(join(work, 'fixture3m'), { label: 'docker-dst-multi' });
    await assert.rejects(copyInto(ociLayoutSource(multi.dir), dockerArchiveDestination(join(work, 'multi3.tar'), 'probe/m:1'), 'latest'), (err: CopyError) => err.code === 'BERTH_COPY_UNSUPPORTED');
    assert.deepEqual((await readdir(work)).filter((n) => n.includes('multi3')), []);
  });

  it('puts every blob the engine sends in parallel into the archive, through one scratch directory', async () => {
    const { image, dir } = await writeSingleArchLayout(join(work, 'fixture6'), { label: 'docker-parallel' });
    const file = join(work, 'parallel6.tar');
    const dst = dockerArchiveDestination(file, 'probe/parallel:v6');
    try {
      const result = await copyImage(ociLayoutSource(dir), dst, { parallel: 4 });
      assert.equal(result.blobs.copied, 3);
    } finally {
      await dst.close();
    }
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('.parallel6')), [], 'no scratch directory is left');
    const back = await dockerArchiveSource(file, 'probe/parallel:v6');
    assert.equal((await back.manifest()).digest, image.manifestDigest);
    assert.equal(await verifyBlobs(back), 3);
    await back.close();
  });

  it('reads a legacy archive as a stream: layers hashed as they come, the manifest skopeo would synthesize', { skip: skopeo.skip }, async () => {
    skopeo.check();
    const legacy = join(work, 'legacy4.tar');
    const image = await writeDockerArchive(legacy, { repoTag: 'probe/stream:v4', label: 'docker-stream' });
    const read = await consume(readDockerSave(createReadStream(legacy), 'legacy4'));
    assert.deepEqual([...read.blobs.keys()], [image.configDigest]);
    assert.deepEqual(read.unnamed, image.diffIds);
    const [only, ...more] = read.images;
    assert.equal(more.length, 0);
    assert.equal(only?.manifest.bytes.toString(), (await runOk('skopeo', ['inspect', '--raw', `docker-archive:${legacy}`])).stdout);
    assert.deepEqual(only?.names, ['probe/stream:v4']);
    // a consumer that skips bodies still gets every digest and the images
    const digests: Promise<string>[] = [];
    let images = 0;
    for await (const entry of readDockerSave(createReadStream(legacy)).entries()) {
      if (entry.kind === 'unnamed-blob') digests.push(entry.digest);
      if (entry.kind === 'images') images = entry.images.length;
    }
    assert.deepEqual(await Promise.all(digests), image.diffIds);
    assert.equal(images, 1);
    // a layer whose bytes are not its config's diff_id is refused at the end
    const bad = (await readFile(legacy)).toString('latin1').replace('hello from docker-stream', 'hello from docker-STREAM');
    await writeFile(join(work, 'bad4.tar'), Buffer.from(bad, 'latin1'));
    await assert.rejects(consume(readDockerSave(createReadStream(join(work, 'bad4.tar')))), (err: CopyError) => err.code === 'BERTH_COPY_DIGEST_MISMATCH');
  });

  describe('with a Docker engine', { skip: docker.skip }, () => {
    let daemon: Awaited<ReturnType<typeof startDockerd>>;
    let dockerWork: string;
    before(async () => {
      docker.check();
      dockerWork = await tempDir('docker-archive-engine');
      daemon = await startDockerd(dockerWork, '127.0.0.1:1');
    });
    after(async () => {
      if (daemon !== undefined) await stopDockerd(daemon, dockerWork);
      await rm(dockerWork, { recursive: true, force: true });
    });

    it('reads docker save output as it streams, and docker loads what the destination wrote', async () => {
      const legacy = join(work, 'engine5.tar');
      const image = await writeDockerArchive(legacy, { repoTag: 'probe/engine:v5', label: 'docker-engine' });
      await runOk('docker', ['load', '-q', '-i', legacy], { env: daemon.env });
      const save = spawn('docker', ['save', 'probe/engine:v5'], { env: { ...process.env, ...daemon.env }, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => save.on('close', resolve));
      const read = await consume(readDockerSave(save.stdout, 'docker save probe/engine:v5'));
      assert.equal(await exited, 0);
      // in tar order: the layer directories are named by legacy v1 ids, not by the layers' order
      assert.deepEqual([...read.unnamed].sort(), [...image.diffIds].sort());
      assert.deepEqual(read.images.map((i) => i.names), [['probe/engine:v5']]);
      const synthesized = JSON.parse(read.images[0]?.manifest.bytes.toString() ?? '{}') as { config: { digest: string } };
      assert.equal(synthesized.config.digest, image.configDigest);

      const { dir, image: written } = await writeSingleArchLayout(join(work, 'fixture5'), { label: 'docker-engine-load' });
      const file = join(work, 'ours5.tar');
      await copyInto(ociLayoutSource(dir), dockerArchiveDestination(file, 'probe/loaded:v5'), 'latest');
      await runOk('docker', ['load', '-q', '-i', file], { env: daemon.env });
      const id = (await runOk('docker', ['image', 'inspect', '--format', '{{.Id}}', 'probe/loaded:v5'], { env: daemon.env })).stdout.trim();
      assert.equal(id, written.configDigest);
    });
  });
});
