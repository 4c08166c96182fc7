import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sha256, writeMultiArchLayout, writeSingleArchLayout } from '../../test/fixtures/oci.ts';
import { requireTools, runOk, tempDir } from '../../test/helpers/process.ts';
import { copyInto, filesUnder, readImage, verifyBlobs } from './file-test-support.ts';
import { ociLayoutDestination, ociLayoutSource, REF_NAME } from './oci-layout.ts';
import { CopyError } from './transport.ts';

const tools = requireTools('skopeo');

async function rawDigest(ref: string): Promise<string> {
  return sha256(Buffer.from((await runOk('skopeo', ['inspect', '--raw', ref])).stdout, 'utf8'));
}

describe('oci: layout source and destination', () => {
  let work: string;
  before(async () => {
    work = await tempDir('oci-layout');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('reads a layout skopeo wrote, by REF and alone, with every blob as its digest', { skip: tools.skip }, async () => {
    tools.check();
    const { image } = await writeSingleArchLayout(join(work, 'fixture1'), { label: 'layout-src', tag: 'v1' });
    await runOk('skopeo', ['copy', '-q', `oci:${join(work, 'fixture1')}:v1`, `oci:${join(work, 'skopeo1')}:two`]);
    for (const ref of ['two', undefined]) {
      const src = ociLayoutSource(join(work, 'skopeo1'), ref);
      const top = await src.manifest();
      assert.equal(top.digest, image.manifestDigest);
      assert.equal(top.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(await verifyBlobs(src), 3);
      await src.close();
    }
    await assert.rejects(ociLayoutSource(join(work, 'skopeo1'), 'nope').manifest(), (err: CopyError) => err.code === 'BERTH_COPY_NOT_FOUND' && /it has: two/.test(err.message));
  });

  it('writes a layout skopeo reads with the same digests, and adds to it', { skip: tools.skip }, async () => {
    tools.check();
    const one = await writeSingleArchLayout(join(work, 'fixture2a'), { label: 'layout-dst-a' });
    const two = await writeSingleArchLayout(join(work, 'fixture2b'), { label: 'layout-dst-b' });
    const dest = join(work, 'dest2');
    await copyInto(ociLayoutSource(one.dir), ociLayoutDestination(dest, 'a'), 'latest');
    await copyInto(ociLayoutSource(two.dir), ociLayoutDestination(dest, 'b'), 'latest');
    assert.equal(await rawDigest(`oci:${dest}:a`), one.image.manifestDigest);
    assert.equal(await rawDigest(`oci:${dest}:b`), two.image.manifestDigest);
    const config = JSON.parse((await runOk('skopeo', ['inspect', '--config', `oci:${dest}:b`])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, two.image.diffIds);
    await runOk('skopeo', ['copy', '-q', `oci:${dest}:b`, `oci:${join(work, 'back2')}:b`]);
    assert.equal(await rawDigest(`oci:${join(work, 'back2')}:b`), two.image.manifestDigest);
    // a REF written again replaces its entry, as skopeo does; the other stays
    await copyInto(ociLayoutSource(two.dir), ociLayoutDestination(dest, 'a'), 'latest');
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    assert.deepEqual(
      index.manifests.map((m) => [m.annotations?.[REF_NAME], m.digest]),
      [['b', two.image.manifestDigest], ['a', two.image.manifestDigest]],
    );
    assert.equal(await rawDigest(`oci:${dest}:a`), two.image.manifestDigest);
    await assert.rejects(ociLayoutSource(dest).manifest(), (err: CopyError) => err.code === 'BERTH_COPY_AMBIGUOUS' && /a, b|b, a/.test(err.message));
  });

  it('copies a multi-arch index both ways with skopeo', { skip: tools.skip }, async () => {
    tools.check();
    const multi = await writeMultiArchLayout(join(work, 'fixture3'), { label: 'layout-multi', tag: 'm' });
    const dest = join(work, 'dest3');
    const top = await copyInto(ociLayoutSource(multi.dir, 'm'), ociLayoutDestination(dest, 'm2'), 'm');
    assert.equal(top.digest, multi.indexDigest);
    assert.equal(await rawDigest(`oci:${dest}:m2`), multi.indexDigest);
    await runOk('skopeo', ['copy', '-q', '--all', `oci:${dest}:m2`, `oci:${join(work, 'skopeo3')}:m3`]);
    const src = ociLayoutSource(join(work, 'skopeo3'), 'm3');
    const image = await readImage(src);
    assert.equal(image.top.digest, multi.indexDigest);
    assert.deepEqual(image.children.map((c) => c.digest), multi.images.map((i) => i.manifestDigest));
    assert.equal(await verifyBlobs(src), 6);
  });

  it('refuses a blob whose bytes are not its digest and leaves nothing of it', async () => {
    const dest = join(work, 'dest4');
    const dst = ociLayoutDestination(dest, 'x');
    const good = Buffer.from('the right bytes');
    const ref = { digest: sha256(good), size: good.length };
    await assert.rejects(
      dst.putBlob(ref, async () => Readable.from([Buffer.from('the wrong bytes')]), () => {}),
      (err: CopyError) => err instanceof CopyError && err.code === 'BERTH_COPY_DIGEST_MISMATCH',
    );
    await assert.rejects(
      dst.putBlob(ref, async () => Readable.from([good, Buffer.from('!')]), () => {}),
      (err: CopyError) => err.code === 'BERTH_COPY_SIZE_MISMATCH',
    );
    assert.deepEqual(await filesUnder(dest), ['oci-layout']);
    assert.equal(await dst.hasBlob(ref), false);
    let sent = 0;
    await dst.putBlob(ref, async (offset) => Readable.from([good.subarray(offset)]), (n) => (sent += n));
    assert.equal(sent, good.length);
    assert.equal(await dst.hasBlob(ref), true);
    await assert.rejects(dst.putBlob({ digest: 'sha256:../../etc', size: 1 }, async () => Readable.from([]), () => {}), (err: CopyError) => err.code === 'BERTH_COPY_DIGEST_INVALID');
    await dst.close();
  });

  it('says what is wrong with a directory that is no layout', async () => {
    const dir = join(work, 'notalayout');
    await assert.rejects(ociLayoutSource(dir).manifest(), (err: CopyError) => err.code === 'BERTH_COPY_NOT_FOUND' && /no oci-layout/.test(err.message));
    const layout = await writeSingleArchLayout(join(work, 'fixture5'), { label: 'layout-bad' });
    await writeFile(join(layout.dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await assert.rejects(ociLayoutSource(layout.dir).manifest(), (err: CopyError) => err.code === 'BERTH_COPY_UNSUPPORTED');
  });
});
