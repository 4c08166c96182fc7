/**
 * docker:// references (docker's naming rules) and the registry as ImageSource and
 * ImageDestination: an image copied blob by blob and manifest by manifest between two
 * repositories of berth and from berth to distribution, with a mount on the same registry.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildImage, MT, sha256 } from '../../test/fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { pushBuiltImage, startDistribution, type Distribution } from '../../test/helpers/mirror.ts';
import { requireTools, tempDir } from '../../test/helpers/process.ts';
import { formatDockerReference, openRegistryDestination, openRegistrySource, parseDockerReference } from './registry-transport.ts';
import { CopyError, type ImageDestination, type ImageSource } from './transport.ts';

describe('parseDockerReference', () => {
  it('follows docker: hosts, Docker Hub defaults, tags and digests', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const cases: [string, ReturnType<typeof parseDockerReference>][] = [
      ['docker://ubuntu', { host: 'registry-1.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
      ['docker://docker.io/ubuntu:22.04', { host: 'registry-1.docker.io', repository: 'library/ubuntu', tag: '22.04' }],
      ['docker://index.docker.io/alice/app', { host: 'registry-1.docker.io', repository: 'alice/app', tag: 'latest' }],
      ['docker://alice/app:1', { host: 'registry-1.docker.io', repository: 'alice/app', tag: '1' }],
      ['docker://127.0.0.1:5000/alice/app:1.0', { host: '127.0.0.1:5000', repository: 'alice/app', tag: '1.0' }],
      ['docker://localhost/app', { host: 'localhost', repository: 'app', tag: 'latest' }],
      ['docker://reg.example.com/a/b/c@' + d, { host: 'reg.example.com', repository: 'a/b/c', digest: d }],
      ['docker://reg.example.com:443/a:t@' + d, { host: 'reg.example.com:443', repository: 'a', tag: 't', digest: d }],
      ['docker://[::1]:5000/app', { host: '[::1]:5000', repository: 'app', tag: 'latest' }],
      ['//quay.io/x/y', { host: 'quay.io', repository: 'x/y', tag: 'latest' }],
    ];
    for (const [input, want] of cases) assert.deepEqual(parseDockerReference(input), want, input);
    for (const bad of ['docker://Upper/app', 'docker://h.com/app:bad tag', 'docker://h.com/app@sha256', 'docker://h.com/']) {
      assert.throws(() => parseDockerReference(bad), (e: CopyError) => e.code === 'BERTH_COPY_REFERENCE_INVALID', bad);
    }
    assert.equal(formatDockerReference(parseDockerReference('docker://127.0.0.1:5000/a/b:c')), 'docker://127.0.0.1:5000/a/b:c');
  });
});

/** What the engine does, by hand: every blob (mounted when it can), then the manifest under the tag. */
async function copyByHand(src: ImageSource, dest: ImageDestination, tag: string): Promise<{ mounted: number; sent: number }> {
  const manifest = await src.manifest();
  const parsed = JSON.parse(manifest.bytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  let mounted = 0;
  let sent = 0;
  for (const ref of [parsed.config, ...parsed.layers]) {
    if (await dest.hasBlob(ref)) continue;
    if (src.registry !== undefined && dest.registry?.host === src.registry.host && (await dest.mountBlob?.(ref, src.registry.repository)) === true) {
      mounted++;
      continue;
    }
    await dest.putBlob(ref, (offset) => src.blob(ref, offset), (n) => (sent += n));
  }
  await dest.putManifest(manifest, tag);
  await dest.commit();
  return { mounted, sent };
}

describe('registry transport', () => {
  let reg: TestRegistry;
  let host: string;
  let stateDir: string;
  const image = buildImage({ label: 'transport', dataBytes: 1024 * 1024 });
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    host = new URL(reg.url).host;
    await pushBuiltImage(reg.url, 'src/app', 'v1', image);
    stateDir = await tempDir('transport-uploads');
  });
  after(async () => {
    await reg.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('reads an image by tag and by digest; a wrong digest is refused', async () => {
    const src = await openRegistrySource(`docker://${host}/src/app:v1`, { configDir: stateDir });
    assert.equal(src.description, `docker://${host}/src/app:v1`);
    assert.deepEqual(src.registry, { host, repository: 'src/app' });
    const m = await src.manifest();
    assert.equal(m.digest, image.manifestDigest);
    assert.equal(m.mediaType, MT.ociManifest);
    assert.deepEqual((await src.childManifest(image.manifestDigest)).bytes, image.manifest);
    const byDigest = await openRegistrySource(`docker://${host}/src/app@${image.manifestDigest}`, { configDir: stateDir });
    assert.equal((await byDigest.manifest()).digest, image.manifestDigest);
    await assert.rejects(src.childManifest(sha256('nothing')), (e: CopyError) => e.code === 'BERTH_COPY_NOT_FOUND' && e.message.includes(host));
    await src.close();
    await byDigest.close();
  });

  it('copies to another repository of the same registry by mounting every blob', async () => {
    const src = await openRegistrySource(`docker://${host}/src/app:v1`, { configDir: stateDir });
    const dest = await openRegistryDestination(`docker://${host}/dest/app:v1`, { configDir: stateDir, uploadStateDir: stateDir });
    assert.deepEqual(await copyByHand(src, dest, 'v1'), { mounted: image.blobs.size, sent: 0 });
    const again = await openRegistrySource(`docker://${host}/dest/app:v1`, { configDir: stateDir });
    assert.equal((await again.manifest()).digest, image.manifestDigest);
    await Promise.all([src.close(), dest.close(), again.close()]);
  });

  it('puts a manifest by digest when no tag is given', async () => {
    const src = await openRegistrySource(`docker://${host}/src/app:v1`, { configDir: stateDir });
    const dest = await openRegistryDestination(`docker://${host}/dest/bydigest@${image.manifestDigest}`, { configDir: stateDir, uploadStateDir: false });
    for (const [digest, data] of image.blobs) assert.equal(await dest.mountBlob({ digest, size: data.length }, 'src/app'), true);
    await dest.putManifest(await src.manifest(), undefined);
    const check = await openRegistrySource(`docker://${host}/dest/bydigest@${image.manifestDigest}`, { configDir: stateDir });
    assert.equal((await check.manifest()).digest, image.manifestDigest);
    await Promise.all([src.close(), dest.close(), check.close()]);
  });

  it('stores a blob named only once its bytes went by (putUnnamedBlob), and refuses a wrong name', async () => {
    const dest = await openRegistryDestination(`docker://${host}/dest/unnamed:v1`, { configDir: stateDir, uploadStateDir: false });
    const data = Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('tail')]);
    const hash = createHash('sha256');
    const body = Readable.from([data.subarray(0, 1024 * 1024), data.subarray(1024 * 1024)]).pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
    );
    let resolveDigest: (d: string) => void = () => undefined;
    const digest = new Promise<string>((r) => (resolveDigest = r));
    body.on('end', () => resolveDigest(`sha256:${hash.digest('hex')}`));
    let sent = 0;
    assert.deepEqual(await dest.putUnnamedBlob(data.length, body, digest, (n) => (sent += n)), { digest: sha256(data), size: data.length });
    assert.equal(sent, data.length);
    assert.equal(await dest.hasBlob({ digest: sha256(data), size: data.length }), true);
    const wrong = dest.putUnnamedBlob(4, Readable.from([Buffer.from('abcd')]), Promise.resolve(sha256('dcba')), () => undefined);
    await assert.rejects(wrong, (e: CopyError) => e.code === 'BERTH_COPY_DIGEST_MISMATCH');
    await dest.close();
  });

  const tools = requireTools('docker-registry');
  describe('to distribution 2.8.2 with htpasswd', { skip: tools.skip }, () => {
    let dist: Distribution;
    before(async () => {
      tools.check();
      dist = await startDistribution();
    });
    after(() => dist?.stop());

    it('copies blob by blob (streamed from berth, chunked to distribution) with --creds, digests equal', async () => {
      const distHost = new URL(dist.url).host;
      const src = await openRegistrySource(`docker://${host}/src/app:v1`, { configDir: stateDir });
      const dest = await openRegistryDestination(`docker://${distHost}/copied/app:v1`, { creds: `${dist.user}:${dist.password}`, uploadStateDir: stateDir, chunkSize: 256 * 1024 });
      const total = [...image.blobs.values()].reduce((n, b) => n + b.length, 0);
      assert.deepEqual(await copyByHand(src, dest, 'v1'), { mounted: 0, sent: total });
      const back = await openRegistrySource(`docker://${distHost}/copied/app:v1`, { creds: `${dist.user}:${dist.password}` });
      const m = await back.manifest();
      assert.equal(m.digest, image.manifestDigest);
      for (const [digest, data] of image.blobs) {
        const chunks: Buffer[] = [];
        for await (const c of await back.blob({ digest, size: data.length })) chunks.push(c as Buffer);
        assert.equal(sha256(Buffer.concat(chunks)), digest);
      }
      await Promise.all([src.close(), dest.close(), back.close()]);
    });
  });
});
