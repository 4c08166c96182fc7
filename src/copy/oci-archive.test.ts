import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sha256, writeMultiArchLayout, writeSingleArchLayout } from '../../test/fixtures/oci.ts';
import { tar } from '../../test/fixtures/tar.ts';
import { requireTools, runOk, tempDir } from '../../test/helpers/process.ts';
import { copyImage } from './engine.ts';
import { copyInto, readImage, verifyBlobs } from './file-test-support.ts';
import { ociArchiveDestination, ociArchiveSource } from './oci-archive.ts';
import { ociLayoutSource } from './oci-layout.ts';
import { TarIndex } from './tar-index.ts';
import { CopyError } from './transport.ts';

const tools = requireTools('skopeo');

async function rawDigest(ref: string): Promise<string> {
  return sha256(Buffer.from((await runOk('skopeo', ['inspect', '--raw', ref])).stdout, 'utf8'));
}

describe('oci-archive: source and destination', () => {
  let work: string;
  before(async () => {
    work = await tempDir('oci-archive');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('indexes a tar and reads entries at their offsets, through links and long names', async () => {
    const long = `${'d'.repeat(90)}/${'f'.repeat(60)}`;
    const file = join(work, 'plain.tar');
    await writeFile(file, tar([{ name: 'a/' }, { name: 'a/one', content: 'first' }, { name: 'two', content: Buffer.alloc(700, 7) }]));
    const index = await TarIndex.open(file, 'test');
    assert.deepEqual([...index.entries.keys()], ['a', 'a/one', 'two']);
    assert.equal((await index.readAll('./a/one', 100, 'test'))?.toString(), 'first');
    assert.deepEqual(await index.readAll('two', 1000, 'test'), Buffer.alloc(700, 7));
    // GNU tar writes long names and links with extra headers: its offsets must still hold
    const dir = join(work, 'gnu');
    await runOk('mkdir', ['-p', join(dir, 'src', 'd'.repeat(90))]);
    await writeFile(join(dir, 'src', long), 'deep');
    await runOk('ln', ['-s', long, join(dir, 'src', 'link')]);
    await runOk('tar', ['--format=posix', '-C', join(dir, 'src'), '-cf', join(dir, 'g.tar'), '.']);
    const gnu = await TarIndex.open(join(dir, 'g.tar'), 'test');
    assert.equal((await gnu.readAll(long, 100, 'test'))?.toString(), 'deep');
    assert.equal((await gnu.readAll('link', 100, 'test'))?.toString(), 'deep');
    await writeFile(join(work, 'gz.tar'), Buffer.from([0x1f, 0x8b, 8, 0]));
    await assert.rejects(TarIndex.open(join(work, 'gz.tar'), 'test'), (err: CopyError) => err.code === 'BERTH_COPY_ARCHIVE_COMPRESSED');
  });

  it('reads an oci-archive skopeo wrote', { skip: tools.skip }, async () => {
    tools.check();
    const { image, dir } = await writeSingleArchLayout(join(work, 'fixture1'), { label: 'archive-src', tag: 'v1', dataBytes: 200_000 });
    const file = join(work, 'skopeo1.tar');
    await runOk('skopeo', ['copy', '-q', `oci:${dir}:v1`, `oci-archive:${file}:v1`]);
    const src = await ociArchiveSource(file, 'v1');
    assert.equal((await src.manifest()).digest, image.manifestDigest);
    assert.equal(await verifyBlobs(src), 3);
    // from an offset (a resumed read)
    const layer = image.layerDigests[1] ?? '';
    const whole = image.blobs.get(layer) ?? Buffer.alloc(0);
    const tail = Buffer.concat(await (await src.blob({ digest: layer, size: whole.length }, 1000)).toArray());
    assert.deepEqual(tail, whole.subarray(1000));
    await src.close();
  });

  it('writes an oci-archive skopeo reads with the same digests', { skip: tools.skip }, async () => {
    tools.check();
    const { image, dir } = await writeSingleArchLayout(join(work, 'fixture2'), { label: 'archive-dst' });
    const file = join(work, 'ours2.tar');
    await copyInto(ociLayoutSource(dir), ociArchiveDestination(file, 'r2'), 'latest');
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('.')), [], 'the scratch directory is gone');
    assert.equal(await rawDigest(`oci-archive:${file}:r2`), image.manifestDigest);
    await runOk('skopeo', ['copy', '-q', `oci-archive:${file}:r2`, `oci:${join(work, 'back2')}:r2`]);
    assert.equal(await rawDigest(`oci:${join(work, 'back2')}:r2`), image.manifestDigest);
  });

  it('copies a multi-arch index through an oci-archive both ways', { skip: tools.skip }, async () => {
    tools.check();
    const multi = await writeMultiArchLayout(join(work, 'fixture3'), { label: 'archive-multi', tag: 'm' });
    const file = join(work, 'ours3.tar');
    await copyInto(ociLayoutSource(multi.dir, 'm'), ociArchiveDestination(file, 'm'), 'm');
    assert.equal(await rawDigest(`oci-archive:${file}:m`), multi.indexDigest);
    const skopeoFile = join(work, 'skopeo3.tar');
    await runOk('skopeo', ['copy', '-q', '--all', `oci-archive:${file}:m`, `oci-archive:${skopeoFile}:again`]);
    const src = await ociArchiveSource(skopeoFile, 'again');
    const read = await readImage(src);
    assert.equal(read.top.digest, multi.indexDigest);
    assert.deepEqual(read.children.map((c) => c.digest), multi.images.map((i) => i.manifestDigest));
    assert.equal(await verifyBlobs(src), 6);
  });

  it('puts every blob the engine sends in parallel into the one archive, through one scratch directory', async () => {
    // Before: each parallel blob's first call made a scratch layout of its own; blobs put in all but
    // the last were never packed (an archive without some layers) and those directories stayed.
    const multi = await writeMultiArchLayout(join(work, 'fixture5'), { label: 'archive-parallel', tag: 'p' });
    const file = join(work, 'parallel5.tar');
    const dst = ociArchiveDestination(file, 'p');
    try {
      const result = await copyImage(ociLayoutSource(multi.dir, 'p'), dst, { all: true, parallel: 4 });
      assert.equal(result.blobs.copied, 6);
    } finally {
      await dst.close();
    }
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('.parallel5')), [], 'no scratch directory is left');
    const src = await ociArchiveSource(file, 'p');
    assert.equal((await src.manifest()).digest, multi.indexDigest);
    assert.equal(await verifyBlobs(src), 6);
    await src.close();
  });

  it('leaves no file when closed without commit, and an existing one as it was; refuses a bad blob', async () => {
    const good = Buffer.from('layer bytes');
    const ref = { digest: sha256(good), size: good.length };
    const file = join(work, 'aborted.tar');
    const dst = ociArchiveDestination(file, 'x');
    await dst.putBlob(ref, async () => Readable.from([good]), () => {});
    await assert.rejects(
      dst.putBlob({ digest: sha256('other'), size: good.length }, async () => Readable.from([good]), () => {}),
      (err: CopyError) => err.code === 'BERTH_COPY_DIGEST_MISMATCH',
    );
    await dst.close();
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('aborted') || n.startsWith('.aborted')), []);
    await writeFile(file, 'before');
    const again = ociArchiveDestination(file, 'x');
    await again.putBlob(ref, async () => Readable.from([good]), () => {});
    await again.close();
    assert.equal(await readFile(file, 'utf8'), 'before');
    assert.deepEqual((await readdir(work)).filter((n) => n.startsWith('.aborted')), []);
  });
});
