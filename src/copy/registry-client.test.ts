/**
 * The registry client against a real berth (in process, with and without access control) and
 * distribution 2.8.2 (Debian's docker-registry, htpasswd Basic auth): push an image's blobs and
 * manifest, pull them back, mounts, a chunked upload cut mid-way and resumed from the registry's
 * offset, tags and catalog pagination, the token flow, retries on 5xx and none on 4xx.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildImage, pseudoRandom, sha256, type BuiltImage } from '../../test/fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { startDistribution, type Distribution } from '../../test/helpers/mirror.ts';
import { requireTools, tempDir } from '../../test/helpers/process.ts';
import { SYSTEM } from '../auth/principal.ts';
import { isLoopbackHost } from './loopback.ts';
import { push, RegistryClient } from './registry-client.ts';
import { uploadBlob } from './registry-upload.ts';
import { UploadStateDir } from './upload-state.ts';
import { CopyError, type BlobRef } from './transport.ts';

const MiB = 1024 * 1024;

function hostOf(url: string): string {
  return new URL(url).host;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function refOf(data: Buffer): BlobRef {
  return { digest: sha256(data), size: data.length };
}

/** open(offset) over a buffer, counting the bytes handed out; `cutAfter`: the stream is destroyed once that many went. */
function source(data: Buffer, opts: { cutAfter?: number; piece?: number } = {}) {
  const counts = { opened: [] as number[], bytes: 0 };
  const open = async (offset: number): Promise<Readable> => {
    counts.opened.push(offset);
    const piece = opts.piece ?? 256 * 1024;
    let at = offset;
    let handed = 0;
    const stream = new Readable({
      read() {
        if (opts.cutAfter !== undefined && handed >= opts.cutAfter) {
          this.destroy();
          return;
        }
        if (at >= data.length) {
          this.push(null);
          return;
        }
        const slice = data.subarray(at, Math.min(data.length, at + piece));
        at += slice.length;
        handed += slice.length;
        counts.bytes += slice.length;
        this.push(slice);
      },
    });
    return stream;
  };
  return { open, counts };
}

async function pushImage(client: RegistryClient, repo: string, image: BuiltImage, tag: string, chunkSize?: number): Promise<void> {
  for (const data of image.blobs.values()) await uploadBlob(client, repo, refOf(data), source(data).open, () => undefined, chunkSize !== undefined ? { chunkSize } : {});
  await client.putManifest(repo, tag, { bytes: image.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.manifestDigest });
}

async function pullAndCompare(client: RegistryClient, repo: string, image: BuiltImage, tag: string): Promise<void> {
  const m = await client.getManifest(repo, tag);
  assert.equal(m.digest, image.manifestDigest);
  assert.deepEqual(m.bytes, image.manifest);
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  for (const [digest, data] of image.blobs) {
    const got = await readAll(await client.getBlob(repo, digest));
    assert.equal(sha256(got), digest);
    assert.equal(got.length, data.length);
  }
}

describe('isLoopbackHost', () => {
  it('is plain HTTP for 127.0.0.0/8, localhost and [::1] only', () => {
    for (const h of ['127.0.0.1:5000', '127.1.2.3', 'localhost', 'localhost:5000', '[::1]:5000', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['registry-1.docker.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1', '[::2]:80']) assert.equal(isLoopbackHost(h), false, h);
    assert.equal(new RegistryClient({ host: 'example.com:5000' }).base.protocol, 'https:');
    assert.equal(new RegistryClient({ host: 'example.com:5000', insecure: true }).base.protocol, 'http:');
  });
});

describe('registry client against berth (no access control)', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let stateDir: string;
  before(async () => {
    reg = await startTestRegistry({ storage: 'filesystem' });
    client = new RegistryClient({ host: hostOf(reg.url) });
    stateDir = await tempDir('copy-uploads');
  });
  after(async () => {
    client.close();
    await reg.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('pushes an image (chunked and monolithic) and pulls it back byte for byte', async () => {
    const image = buildImage({ label: 'client-push', dataBytes: 3 * MiB });
    await pushImage(client, 'copy/app', image, 'v1', MiB);
    await pullAndCompare(client, 'copy/app', image, 'v1');
    const head = await client.headManifest('copy/app', 'v1');
    assert.equal(head?.digest, image.manifestDigest);
    assert.equal(await client.headManifest('copy/app', 'nope'), undefined);
    const small = buildImage({ label: 'client-push-small' });
    await pushImage(client, 'copy/app', small, 'v2');
    await pullAndCompare(client, 'copy/app', small, 'v2');
  });

  it('reads a blob from an offset', async () => {
    const data = pseudoRandom(2 * MiB + 17, 'offset');
    await uploadBlob(client, 'copy/offset', refOf(data), source(data).open, () => undefined, { chunkSize: MiB });
    const tail = await readAll(await client.getBlob('copy/offset', sha256(data), MiB + 5));
    assert.deepEqual(tail, data.subarray(MiB + 5));
  });

  it('mounts a blob from another repository, and says no for one it cannot', async () => {
    const data = pseudoRandom(64 * 1024, 'mount');
    await uploadBlob(client, 'copy/mount-from', refOf(data), source(data).open, () => undefined);
    assert.equal(await client.hasBlob('copy/mount-to', sha256(data)), false);
    assert.equal(await client.mountBlob('copy/mount-to', sha256(data), 'copy/mount-from'), true);
    assert.equal(await client.hasBlob('copy/mount-to', sha256(data)), true);
    assert.equal(await client.mountBlob('copy/mount-to', sha256(Buffer.from('absent')), 'copy/mount-from'), false);
  });

  it('resumes an upload cut mid-way from the offset the registry reports, sending only the rest', async () => {
    const data = pseudoRandom(6 * MiB + 123, 'resume');
    const ref = refOf(data);
    const state = new UploadStateDir(stateDir);
    const first = source(data, { cutAfter: 2 * MiB + 300 * 1024 });
    await assert.rejects(uploadBlob(client, 'copy/resume', ref, first.open, () => undefined, { chunkSize: MiB, state }), (e: CopyError) => e.code === 'BERTH_COPY_SOURCE');
    const saved = await state.load(client.host, 'copy/resume', ref.digest);
    assert.ok(saved !== undefined, 'the session is kept');
    assert.ok(saved.offset >= 2 * MiB, `saved offset ${saved.offset}`);
    assert.equal((await stat(state.file(client.host, 'copy/resume', ref.digest))).mode & 0o777, 0o600);
    assert.equal(await client.hasBlob('copy/resume', ref.digest), false);

    const second = source(data);
    let reported = 0;
    await uploadBlob(client, 'copy/resume', ref, second.open, (n) => (reported += n), { chunkSize: MiB, state });
    const resumedAt = second.counts.opened[0] ?? 0;
    console.log(`# berth: source cut once ${2 * MiB + 300 * 1024} bytes were read (1 MiB chunks), resumed at ${resumedAt}`);
    assert.ok(resumedAt >= 2 * MiB, `resumed at ${resumedAt}`);
    assert.deepEqual(second.counts.opened, [resumedAt]);
    assert.equal(second.counts.bytes, data.length - resumedAt, 'only the rest was read');
    assert.equal(reported, data.length, 'progress counts the whole blob once');
    assert.equal(await state.load(client.host, 'copy/resume', ref.digest), undefined, 'the state is removed once committed');
    assert.deepEqual(await readAll(await client.getBlob('copy/resume', ref.digest)), data);
  });

  it('starts over when the saved session is gone', async () => {
    const data = pseudoRandom(3 * MiB, 'gone');
    const ref = refOf(data);
    const state = new UploadStateDir(stateDir);
    await state.save({ registry: client.host, repository: 'copy/gone', digest: ref.digest, location: `${reg.url}/v2/copy/gone/blobs/uploads/00000000-0000-4000-8000-000000000000`, offset: MiB });
    const s = source(data);
    await uploadBlob(client, 'copy/gone', ref, s.open, () => undefined, { chunkSize: MiB, state });
    assert.deepEqual(s.counts.opened, [0]);
    assert.equal(await client.hasBlob('copy/gone', ref.digest), true);
  });

  it('refuses a blob whose bytes are not its digest', async () => {
    const data = pseudoRandom(2 * MiB, 'bad');
    const ref = { digest: sha256('something else'), size: data.length };
    await assert.rejects(uploadBlob(client, 'copy/bad', ref, source(data).open, () => undefined, { chunkSize: MiB }), (e: CopyError) => e.code === 'BERTH_COPY_DIGEST_MISMATCH' && /DIGEST_INVALID/.test(e.message));
    await assert.rejects(uploadBlob(client, 'copy/bad', ref, source(data).open, () => undefined), (e: CopyError) => e.code === 'BERTH_COPY_DIGEST_MISMATCH');
  });

  it('lists tags and the catalog across Link pages, and deletes a manifest', async () => {
    const image = buildImage({ label: 'client-tags' });
    await pushImage(client, 'copy/tags', image, 't0');
    const m = await client.getManifest('copy/tags', 't0');
    for (let i = 1; i < 5; i++) await client.putManifest('copy/tags', `t${i}`, m);
    // Two per page: the five tags come from three pages.
    assert.deepEqual((await client.listTags('copy/tags', 2)).sort(), ['t0', 't1', 't2', 't3', 't4']);
    assert.deepEqual((await client.listTags('copy/tags')).sort(), ['t0', 't1', 't2', 't3', 't4']);
    assert.ok((await client.catalog(1)).includes('copy/tags'));
    assert.deepEqual(await client.listTags('copy/never'), []);
    assert.ok((await client.catalog()).includes('copy/tags'));
    assert.equal(await client.deleteManifest('copy/tags', m.digest), true);
    assert.equal(await client.headManifest('copy/tags', 't0'), undefined);
  });
});

describe('registry client against berth with access control (token flow)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    await reg.running.access.accounts.createUser(SYSTEM, 'alice', 'alice-password-1');
  });
  after(() => reg.stop());

  it('gets a token scoped to the repository and pushes and pulls with it', async () => {
    const client = new RegistryClient({ host: hostOf(reg.url), credential: { kind: 'basic', username: 'alice', password: 'alice-password-1' } });
    const image = buildImage({ label: 'client-token', dataBytes: 2 * MiB });
    await pushImage(client, 'alice/app', image, 'v1', MiB);
    await pullAndCompare(client, 'alice/app', image, 'v1');
    const auth = client.authorization([push('alice/app')]);
    assert.match(auth ?? '', /^Bearer /);
    const claims = JSON.parse(Buffer.from((auth ?? '').split('.')[1] ?? '', 'base64url').toString()) as { sub: string; access: unknown };
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }]);
    // A mount names both repositories' scopes in one token.
    const layer = image.blobs.get(image.layerDigests[0] ?? '') ?? Buffer.alloc(0);
    assert.equal(await client.mountBlob('alice/other', sha256(layer), 'alice/app'), true);
    client.close();
  });

  it('fails with the host in the message and no credential in it', async () => {
    const client = new RegistryClient({ host: hostOf(reg.url), credential: { kind: 'basic', username: 'alice', password: 'wrong-secret-42' } });
    await assert.rejects(client.getManifest('alice/app', 'v1'), (e: CopyError) => {
      assert.equal(e.code, 'BERTH_COPY_UNAUTHORIZED');
      assert.ok(e.message.includes(client.host), e.message);
      assert.ok(!e.message.includes('wrong-secret-42') && !e.message.includes(Buffer.from('alice:wrong-secret-42').toString('base64')), e.message);
      return true;
    });
    const anonymous = new RegistryClient({ host: hostOf(reg.url) });
    await assert.rejects(anonymous.getManifest('alice/app', 'v1'), (e: CopyError) => e.code === 'BERTH_COPY_UNAUTHORIZED' || e.code === 'BERTH_COPY_NOT_FOUND');
    client.close();
    anonymous.close();
  });
});

const distributionTools = requireTools('docker-registry');

describe('registry client against distribution 2.8.2 (htpasswd Basic)', { skip: distributionTools.skip }, () => {
  let dist: Distribution;
  let client: RegistryClient;
  let stateDir: string;
  before(async () => {
    distributionTools.check();
    dist = await startDistribution();
    client = new RegistryClient({ host: hostOf(dist.url), credential: { kind: 'basic', username: dist.user, password: dist.password } });
    stateDir = await tempDir('copy-uploads-dist');
  });
  after(async () => {
    client?.close();
    await dist?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('pushes an image chunked and pulls it back', async () => {
    const image = buildImage({ label: 'dist-push', dataBytes: 3 * MiB });
    await pushImage(client, 'copy/app', image, 'v1', MiB);
    await pullAndCompare(client, 'copy/app', image, 'v1');
    assert.deepEqual(await client.listTags('copy/app'), ['v1']);
    assert.ok((await client.catalog()).includes('copy/app'));
  });

  it('mounts across repositories', async () => {
    const data = pseudoRandom(100 * 1024, 'dist-mount');
    await uploadBlob(client, 'copy/from', refOf(data), source(data).open, () => undefined);
    assert.equal(await client.mountBlob('copy/to', sha256(data), 'copy/from'), true);
    assert.equal(await client.hasBlob('copy/to', sha256(data)), true);
  });

  for (const [what, cutAfter] of [
    ['between chunks', 2 * MiB],
    ['inside a chunk', 2 * MiB + 300 * 1024],
  ] as const) {
    it(`continues an upload cut ${what}: from the saved session, or over when distribution refuses its offset`, async () => {
      const data = pseudoRandom(5 * MiB + 1, `dist-resume-${cutAfter}`);
      const ref = refOf(data);
      const state = new UploadStateDir(stateDir);
      const first = source(data, { cutAfter });
      await assert.rejects(uploadBlob(client, 'copy/resume', ref, first.open, () => undefined, { chunkSize: MiB, state }), (e: CopyError) => e.code === 'BERTH_COPY_SOURCE');
      assert.ok((await state.load(client.host, 'copy/resume', ref.digest)) !== undefined);
      const second = source(data);
      await uploadBlob(client, 'copy/resume', ref, second.open, () => undefined, { chunkSize: MiB, state });
      const at = second.counts.opened.at(-1) ?? -1;
      console.log(`# distribution, cut ${what}: the second upload sent from ${at} (opened at ${second.counts.opened.join(', ')})`);
      // Cut between chunks, the session's state token matches the bytes it holds: it resumes there.
      if (cutAfter === 2 * MiB) assert.deepEqual(second.counts.opened, [2 * MiB]);
      assert.equal(second.counts.opened.length, 1);
      assert.equal(second.counts.bytes, data.length - at, 'the bytes from there, once');
      assert.deepEqual(await readAll(await client.getBlob('copy/resume', ref.digest)), data);
      assert.equal(await state.load(client.host, 'copy/resume', ref.digest), undefined);
    });
  }

  it('names the host and not the password when refused', async () => {
    const wrong = new RegistryClient({ host: hostOf(dist.url), credential: { kind: 'basic', username: dist.user, password: 'not-the-password-7' } });
    await assert.rejects(wrong.hasBlob('copy/app', sha256('x')), (e: CopyError) => e.code === 'BERTH_COPY_UNAUTHORIZED' && e.message.includes(wrong.host) && !e.message.includes('not-the-password-7'));
    wrong.close();
  });
});

describe('retries', () => {
  let server: Server;
  let host: string;
  const seen: string[] = [];
  let status = 503;
  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'try later' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    host = `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('tries a 5xx again, with growing jittered pauses, up to the bound; a 4xx once', async () => {
    const pauses: number[] = [];
    const client = new RegistryClient({ host, retries: 3, backoffMs: 100, random: () => 0.5, sleep: async (ms) => void pauses.push(ms) });
    seen.length = 0;
    await assert.rejects(client.getManifest('a/b', 'latest'), (e: CopyError) => e.code === 'BERTH_COPY_REGISTRY' && /503: UNAVAILABLE/.test(e.message));
    assert.equal(seen.length, 4);
    assert.deepEqual(pauses, [50, 100, 200]);
    status = 400;
    seen.length = 0;
    await assert.rejects(client.getManifest('a/b', 'latest'));
    assert.equal(seen.length, 1);
    client.close();
  });

  it('tries a refused connection again, then names the host', async () => {
    const client = new RegistryClient({ host: '127.0.0.1:1', retries: 2, sleep: async () => undefined });
    await assert.rejects(client.hasBlob('a/b', sha256('x')), (e: CopyError) => e.code === 'BERTH_COPY_UNREACHABLE' && /127\.0\.0\.1:1: HEAD .* after 3 tries: ECONNREFUSED/.test(e.message));
    client.close();
  });
});
