/**
 * A running `berth serve` answers blob HEADs and GETs from memory (the repository's link to the
 * blob); `berth repo delete` and then `berth gc` in another process beside it, on the same SQLite
 * meta store, take the blobs' links away, and the very next request must see it: 404 BLOB_UNKNOWN,
 * not the link it held a moment before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useServerBesideCli } from '../helpers/beside-cli.ts';
import { errorCode } from '../helpers/client.ts';

describe('the blob-link cache of a running server beside the berth CLI', () => {
  const cli = useServerBesideCli();

  const head = async (digest: string): Promise<number> => {
    const res = await cli.client.fetch(`/v2/r/app/blobs/${digest}`, { method: 'HEAD' });
    await res.arrayBuffer();
    return res.status;
  };

  it('answers 404 BLOB_UNKNOWN for blobs it served from memory, once berth gc has unlinked them', async () => {
    const { layer, config } = await cli.client.pushImage('r/app', 'latest');
    const heads = async (): Promise<void> => {
      assert.equal(await head(layer.digest), 200);
      assert.equal(await head(config.digest), 200);
    };
    for (let i = 0; i < 20; i++) await heads();
    const deleted = await cli.beside(['repo', 'delete', 'r/app'], heads);
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    await heads(); // blobs stay linked until garbage collection
    const collected = await cli.beside(['gc'], () => Promise.all([head(layer.digest), head(config.digest)]), { REGISTRY_STORAGE_GC_GRACE: '1ms' });
    assert.equal(collected.code, 0, collected.stdout + collected.stderr);
    assert.equal(await head(layer.digest), 404, 'HEAD of the layer');
    assert.equal(await head(config.digest), 404, 'HEAD of the config');
    const get = await cli.client.fetch(`/v2/r/app/blobs/${layer.digest}`);
    assert.equal(get.status, 404, 'GET of the layer');
    assert.equal(await errorCode(get), 'BLOB_UNKNOWN');
  });
});
