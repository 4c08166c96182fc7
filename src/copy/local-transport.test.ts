/**
 * berth's own registry as a copy source and destination, in process: two real berths (A reached
 * over HTTP, B through its stores), images from OCI layouts. An index copied A -> B and back
 * keeps every digest; a copy inside B mounts; pushes through B's stores emit their events as
 * `berth-replication` and meet its guards (immutable tags, quotas, digests) with the domain's errors.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildImage, sha256, writeMultiArchLayout, writeSingleArchLayout } from '../../test/fixtures/oci.ts';
import { startTestRegistry, type TestRegistry } from '../../test/helpers/inproc.ts';
import { tempDir } from '../../test/helpers/process.ts';
import { TestReceiver } from '../events/test-receiver.ts';
import { DigestInvalidError, QuotaExceededError, TagImmutableError } from '../registry/errors.ts';
import type { Registry } from '../registry/registry.ts';
import { copyImage } from './engine.ts';
import { LocalDestination, LocalSource, LOCAL_HOST } from './local-transport.ts';
import { ociLayoutSource } from './oci-layout.ts';
import { openRegistryDestination, openRegistrySource } from './registry-transport.ts';
import { CopyError, type BlobRef } from './transport.ts';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Upload sessions the registry still holds (none once a push has ended, however it ended). */
async function openUploads(registry: Registry, repository: string): Promise<number> {
  return (await registry.meta.listUploads(Date.now() + 60_000)).filter((u) => u.repo === repository).length;
}

describe('local transport', () => {
  let a: TestRegistry;
  let b: TestRegistry;
  let hostA: string;
  let hostB: string;
  let work: string;
  let receiver: TestReceiver;
  let registryB: Registry;
  /** Credentials: none (no docker config of this machine read). */
  const creds = (): { configDir: string; uploadStateDir: false } => ({ configDir: work, uploadStateDir: false });

  before(async () => {
    work = await tempDir('local-transport');
    receiver = await TestReceiver.start();
    a = await startTestRegistry();
    b = await startTestRegistry({
      config: {
        notifications: { endpoints: [{ name: 'hook', url: receiver.url, backoff: '10ms' }] },
        access: { immutable: [{ repository: 'frozen/*', tags: ['v*'] }], quota: { namespaces: { small: '64KiB' } } },
      },
    });
    hostA = new URL(a.url).host;
    hostB = new URL(b.url).host;
    registryB = b.running.registry;
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await receiver?.down();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('copies an index (--all) from berth A over HTTP into B through its stores, then back to A: digests equal; a copy inside B mounts every blob', async () => {
    const layout = await writeMultiArchLayout(join(work, 'multi'), { label: 'local-transport', tag: 'v1' });
    const distinct = new Set(layout.images.flatMap((i) => [...i.blobs.keys()])).size;
    const toA = await openRegistryDestination(`docker://${hostA}/multi/app:v1`, creds());
    await copyImage(ociLayoutSource(layout.dir, 'v1'), toA, { all: true, tag: 'v1' });
    await toA.close();

    // A over HTTP -> B's stores
    const fromA = await openRegistrySource(`docker://${hostA}/multi/app:v1`, creds());
    const intoB = new LocalDestination(registryB, 'replica/app');
    assert.equal(intoB.description, `${LOCAL_HOST}/replica/app`);
    const copied = await copyImage(fromA, intoB, { all: true, tag: 'v1' });
    await fromA.close();
    assert.equal(copied.digest, layout.indexDigest);
    assert.equal(copied.images, 2);
    assert.deepEqual(copied.blobs, { copied: distinct, skipped: 0, mounted: 0 });
    const readB = await openRegistrySource(`docker://${hostB}/replica/app:v1`, creds());
    const top = await readB.manifest();
    assert.equal(top.digest, layout.indexDigest);
    assert.deepEqual(top.bytes, layout.index);
    for (const image of layout.images) {
      assert.deepEqual((await readB.childManifest(image.manifestDigest)).bytes, image.manifest);
      for (const [digest, data] of image.blobs) assert.equal(sha256(await readAll(await readB.blob({ digest, size: data.length }))), digest);
    }
    await readB.close();

    // B's stores -> A over HTTP (another repository: every blob sent, different hosts)
    const fromB = new LocalSource(registryB, 'replica/app', 'v1');
    assert.equal(fromB.description, `${LOCAL_HOST}/replica/app:v1`);
    const toA2 = await openRegistryDestination(`docker://${hostA}/back/app:v1`, creds());
    const back = await copyImage(fromB, toA2, { all: true, tag: 'v1' });
    await toA2.close();
    assert.equal(back.digest, layout.indexDigest);
    assert.deepEqual(back.blobs, { copied: distinct, skipped: 0, mounted: 0 });
    const readA = await openRegistrySource(`docker://${hostA}/back/app:v1`, creds());
    assert.deepEqual((await readA.manifest()).bytes, layout.index);
    for (const image of layout.images) assert.equal((await readA.childManifest(image.manifestDigest)).digest, image.manifestDigest);
    await readA.close();

    // inside B, between two repositories: every blob mounted, no byte sent
    const inside = await copyImage(new LocalSource(registryB, 'replica/app', 'v1'), new LocalDestination(registryB, 'replica/other'), { all: true, tag: 'v1' });
    assert.equal(inside.digest, layout.indexDigest);
    assert.deepEqual(inside.blobs, { copied: 0, skipped: 0, mounted: distinct });
    assert.equal(inside.bytes, 0);
    // and again: everything is there
    const again = await copyImage(new LocalSource(registryB, 'replica/app', layout.indexDigest), new LocalDestination(registryB, 'replica/other'), { all: true, tag: 'v1' });
    assert.deepEqual(again.blobs, { copied: 0, skipped: distinct, mounted: 0 });
    const other = await openRegistrySource(`docker://${hostB}/replica/other:v1`, creds());
    assert.deepEqual((await other.manifest()).bytes, layout.index);
    await other.close();
  });

  it('reads a blob from an offset', async () => {
    const image = buildImage({ label: 'offset', dataBytes: 300 * 1024 });
    const layout = join(work, 'offset');
    await writeSingleArchLayout(layout, { label: 'offset', dataBytes: 300 * 1024, tag: 'v1' });
    await copyImage(ociLayoutSource(layout, 'v1'), new LocalDestination(registryB, 'offset/app'), { tag: 'v1' });
    const src = new LocalSource(registryB, 'offset/app', 'v1');
    const [digest, data] = [...image.blobs].reduce((x, y) => (y[1].length > x[1].length ? y : x));
    const ref = { digest, size: data.length };
    assert.deepEqual(await readAll(await src.blob(ref, 0)), data);
    assert.deepEqual(await readAll(await src.blob(ref, 1000)), data.subarray(1000));
    assert.deepEqual(await readAll(await src.blob(ref, data.length)), Buffer.alloc(0));
  });

  it('pushes through the stores as berth-replication: push events of the blobs and of the tagged manifest name it', async () => {
    const layout = await writeSingleArchLayout(join(work, 'events'), { label: 'events', tag: 'v1' });
    await copyImage(ociLayoutSource(layout.dir, 'v1'), new LocalDestination(registryB, 'events/app'), { tag: 'v1' });
    const ofRepo = () => receiver.accepted.filter((e) => e.target.repository === 'events/app');
    await receiver.waitFor('the manifest push event', () => ofRepo().some((e) => e.action === 'push' && e.target.tag === 'v1'));
    await receiver.waitFor('the blob push events', () => ofRepo().filter((e) => e.action === 'push' && e.target.digest !== layout.image.manifestDigest).length === layout.image.blobs.size);
    const manifestPush = ofRepo().find((e) => e.action === 'push' && e.target.tag === 'v1');
    assert.equal(manifestPush?.target.digest, layout.image.manifestDigest);
    assert.deepEqual(manifestPush?.actor, { name: 'berth-replication' });
    for (const e of ofRepo()) assert.equal(e.actor.name, 'berth-replication', `${e.action} ${e.target.digest}`);
    assert.equal(manifestPush?.request.method, '');

    // reads through LocalSource are pulls by the same actor
    const [digest, data] = [...layout.image.blobs][0] ?? ['', Buffer.alloc(0)];
    await readAll(await new LocalSource(registryB, 'events/app', 'v1').blob({ digest, size: data.length }));
    await receiver.waitFor('the blob pull event', () => ofRepo().some((e) => e.action === 'pull' && e.target.digest === digest));
    assert.equal(ofRepo().find((e) => e.action === 'pull')?.actor.name, 'berth-replication');
  });

  it("refuses with the domain's errors: a moved immutable tag, a blob or a mount past the quota", async () => {
    const first = await writeSingleArchLayout(join(work, 'frozen1'), { label: 'frozen-1', tag: 'v1' });
    const second = await writeSingleArchLayout(join(work, 'frozen2'), { label: 'frozen-2', tag: 'v1' });
    await copyImage(ociLayoutSource(first.dir, 'v1'), new LocalDestination(registryB, 'frozen/app'), { tag: 'v1' });
    await assert.rejects(copyImage(ociLayoutSource(second.dir, 'v1'), new LocalDestination(registryB, 'frozen/app'), { tag: 'v1' }), TagImmutableError);
    assert.equal((await new LocalSource(registryB, 'frozen/app', 'v1').manifest()).digest, first.image.manifestDigest);

    // a blob past the namespace's 64 KiB: refused at the upload's end, nothing linked, no session left
    const big = await writeSingleArchLayout(join(work, 'big'), { label: 'quota', dataBytes: 256 * 1024, tag: 'v1' });
    const dest = new LocalDestination(registryB, 'small/app');
    await assert.rejects(copyImage(ociLayoutSource(big.dir, 'v1'), dest, { tag: 'v1', attempts: 1 }), QuotaExceededError);
    const [largest] = [...big.image.blobs].sort((x, y) => y[1].length - x[1].length);
    assert.ok(largest);
    assert.equal(await dest.hasBlob({ digest: largest[0], size: largest[1].length }), false);
    assert.equal(await openUploads(registryB, 'small/app'), 0);
    // a mount past it: refused as well (the mount is tried: same host)
    await copyImage(ociLayoutSource(big.dir, 'v1'), new LocalDestination(registryB, 'unlimited/app'), { tag: 'v1' });
    await assert.rejects(copyImage(new LocalSource(registryB, 'unlimited/app', 'v1'), new LocalDestination(registryB, 'small/other'), { tag: 'v1', attempts: 1 }), QuotaExceededError);
  });

  it('links nothing of a blob whose bytes do not match its digest, nor of one whose source fails, and leaves no upload', async () => {
    const dest = new LocalDestination(registryB, 'bad/app');
    for (const size of [1000, 1024 * 1024]) {
      const data = Buffer.alloc(size, 3);
      const ref: BlobRef = { digest: sha256(Buffer.alloc(size, 4)), size };
      let sent = 0;
      await assert.rejects(
        dest.putBlob(ref, async () => Readable.from([data]), (n) => (sent += n)),
        (e: DigestInvalidError) => e instanceof DigestInvalidError && e.detail?.['actual'] === sha256(data),
      );
      assert.equal(sent, size);
      assert.equal(await dest.hasBlob(ref), false);
      assert.equal(await dest.hasBlob({ digest: sha256(data), size }), false);
      assert.equal(await registryB.blobs.bytesPresent(ref.digest), false);
    }
    const data = Buffer.alloc(1024 * 1024, 5);
    const failing = Readable.from(
      (function* () {
        yield data.subarray(0, 512 * 1024);
        throw new Error('source went away');
      })(),
    );
    await assert.rejects(dest.putBlob({ digest: sha256(data), size: data.length }, async () => failing, () => undefined), /source went away/);
    assert.equal(await dest.hasBlob({ digest: sha256(data), size: data.length }), false);
    assert.equal(await openUploads(registryB, 'bad/app'), 0);
    // and a good one goes in (no session of the failures in the way)
    await dest.putBlob({ digest: sha256(data), size: data.length }, async () => Readable.from([data]), () => undefined);
    assert.equal(await dest.hasBlob({ digest: sha256(data), size: data.length }), true);
  });

  it('names repository and reference when the source has no such manifest or blob', async () => {
    const missing = new LocalSource(registryB, 'replica/app', 'nope');
    await assert.rejects(missing.manifest(), (e: CopyError) => e.code === 'BERTH_COPY_NOT_FOUND' && e.message.includes(`${LOCAL_HOST}/replica/app:nope`));
    const d = sha256('nothing');
    await assert.rejects(missing.childManifest(d), (e: CopyError) => e.code === 'BERTH_COPY_NOT_FOUND' && e.message.includes(`replica/app@${d}`));
    await assert.rejects(missing.blob({ digest: d, size: 7 }), (e: CopyError) => e.code === 'BERTH_COPY_NOT_FOUND' && e.message.includes(`blob ${d} of ${LOCAL_HOST}/replica/app`));
    await assert.rejects(new LocalSource(registryB, 'no/such-repo', 'v1').manifest(), (e: CopyError) => e.code === 'BERTH_COPY_NOT_FOUND' && e.message.includes('no/such-repo:v1'));
  });
});
