/**
 * The hot manifest GET answers from memory (resolved references and bytes), and stays right when
 * another process changes the same SQLite database: a second connection to the file is what a
 * `berth` CLI command beside the server is (SQLite's data_version is per connection, not per process).
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import type { MemoryDriver } from '../storage/drivers/memory.ts';
import { registriesBesideCli } from '../../test/helpers/beside-cli.ts';
import { blobDataPath } from '../storage/paths.ts';
import { digestOf } from './digest.ts';
import { ManifestUnknownError } from './errors.ts';
import { OCI_MANIFEST } from './media-types.ts';
import type { Registry } from './registry.ts';

const ANY: ReadonlySet<string> = new Set();

describe('the manifest cache beside another process', () => {
  let close: () => Promise<void>;
  let driver: MemoryDriver;
  let serverMeta: SqliteMetaStore;
  let cliMeta: SqliteMetaStore;
  let server: Registry;
  let cli: Registry;
  let lookups: { cache: string; hit: boolean }[];

  async function image(registry: Registry, meta: SqliteMetaStore, tag: string, label: string): Promise<string> {
    const layer = Buffer.from(`layer ${label}`);
    const layerDigest = digestOf(layer);
    await driver.putContent(blobDataPath('sha256', layerDigest.slice(7)), layer);
    await meta.linkBlob('r/app', { digest: layerDigest, size: layer.length });
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: layerDigest, size: layer.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      }),
    );
    return (await registry.manifests.put('r/app', tag, body, OCI_MANIFEST)).digest;
  }

  const served = async (reference: string): Promise<string> => (await server.manifests.getAccepted('r/app', reference, ANY)).record.digest;

  beforeEach(async () => {
    ({ driver, serverMeta, cliMeta, server, cli, lookups, close } = await registriesBesideCli('manifest-cache'));
  });
  afterEach(() => close());

  it('serves a repeated GET by tag from memory', async () => {
    const one = await image(server, serverMeta, 'latest', 'one');
    assert.equal(await served('latest'), one);
    lookups.length = 0;
    assert.equal(await served('latest'), one);
    assert.deepEqual(lookups, [
      { cache: 'manifest-records', hit: true },
      { cache: 'manifest-bytes', hit: true },
    ]);
  });

  it('serves a tag another process moved as it is now, from the next request on', async () => {
    const one = await image(server, serverMeta, 'latest', 'one');
    assert.equal(await served('latest'), one);
    await nextTurn();
    const two = await image(cli, cliMeta, 'latest', 'two');
    assert.notEqual(two, one);
    await nextTurn();
    assert.equal(await served('latest'), two);
    assert.equal((await server.manifests.statAccepted('r/app', 'latest', ANY)).digest, two, 'HEAD too');
  });

  it('answers 404 for a tag or manifest another process deleted, from the next request on', async () => {
    const one = await image(server, serverMeta, 'latest', 'one');
    const two = await image(server, serverMeta, 'stable', 'two');
    assert.equal(await served('latest'), one);
    assert.equal(await served(two), two);
    await nextTurn();
    await cli.manifests.delete('r/app', 'latest');
    await cli.manifests.delete('r/app', two);
    await nextTurn();
    await assert.rejects(served('latest'), ManifestUnknownError);
    await assert.rejects(served(two), ManifestUnknownError);
    await assert.rejects(served('stable'), ManifestUnknownError);
  });

  it("forgets at once what this process's own delete removed", async () => {
    const one = await image(server, serverMeta, 'latest', 'one');
    assert.equal(await served(one), one);
    await server.manifests.delete('r/app', one);
    await assert.rejects(served(one), ManifestUnknownError);
    await assert.rejects(served('latest'), ManifestUnknownError);
  });
});
