/**
 * The `docker save` stream as containers/image writes it (podman's `GET /images/NAME/get`,
 * skopeo's docker-archive): layers first, each a top-level `<hex>.tar` named by its uncompressed
 * digest, then the config and manifest.json. Those layers come as named blobs (so a push can skip
 * or mount them before reading them), and one whose bytes are not its name is refused.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildImage, type BuiltImage } from '../../test/fixtures/oci.ts';
import { tar } from '../../test/fixtures/tar.ts';
import { readDockerSave } from './docker-archive.ts';
import { digestStream } from './file-test-support.ts';
import type { CopyError } from './transport.ts';

const hex = (digest: string): string => digest.slice('sha256:'.length);

/** The archive podman 4 exports for `image`, in its order (without its `<v1id>/` links and files). */
function podmanExport(image: BuiltImage, repoTag: string, layerTars = image.layerTars): Readable {
  const layerNames = image.diffIds.map((id) => `${hex(id)}.tar`);
  const manifest = [{ Config: `${hex(image.configDigest)}.json`, RepoTags: [repoTag], Layers: layerNames }];
  const entries = [
    ...layerTars.map((content, i) => ({ name: layerNames[i] ?? '', content })),
    { name: `${hex(image.configDigest)}.json`, content: image.config },
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    { name: 'repositories', content: '{}' },
  ];
  return Readable.from([tar(entries)]);
}

describe('docker save stream: containers/image archives (podman, skopeo)', () => {
  it('gives each <hex>.tar layer as a blob named by its digest, and the image', async () => {
    const image = buildImage({ label: 'podman-export' });
    const named: string[] = [];
    let unnamed = 0;
    let config: string | undefined;
    for await (const entry of readDockerSave(podmanExport(image, 'localhost/probe:v1')).entries()) {
      if (entry.kind === 'blob') {
        assert.deepEqual(await digestStream(entry.body), { digest: entry.ref.digest, size: entry.ref.size });
        named.push(entry.ref.digest);
      } else if (entry.kind === 'unnamed-blob') {
        unnamed++;
        entry.body.resume();
      } else {
        assert.equal(entry.images.length, 1);
        assert.deepEqual(entry.images[0]?.names, ['localhost/probe:v1']);
        config = (JSON.parse(entry.images[0]?.manifest.bytes.toString() ?? '{}') as { config?: { digest?: string } }).config?.digest;
      }
    }
    assert.deepEqual(named, [...image.diffIds, image.configDigest]);
    assert.equal(unnamed, 0);
    assert.equal(config, image.configDigest);
  });

  it('fails a <hex>.tar whose bytes are not that digest, even when the reader only drains it', async () => {
    const image = buildImage({ label: 'podman-export-bad' });
    const top = image.layerTars[1] ?? Buffer.alloc(0);
    const changed = Buffer.from(top);
    changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
    const entries = readDockerSave(podmanExport(image, 'localhost/probe:bad', [image.layerTars[0] ?? Buffer.alloc(0), changed])).entries();
    await assert.rejects(
      (async () => {
        for await (const entry of entries) if (entry.kind !== 'images') entry.body.resume();
      })(),
      (err: CopyError) => err.code === 'BERTH_COPY_DIGEST_MISMATCH' && err.message.includes(`${hex(image.diffIds[1] ?? '')}.tar`),
    );
  });
});
